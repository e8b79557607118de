import { ContextConsumer, ContextProvider, createContext } from '@lit/context';
import { expect, fixture, html, waitUntil } from '@open-wc/testing';
import { LitElement } from 'lit';
import { defineElement } from './define.js';

const greeting = createContext<string>(Symbol('greeting'));

/** Renders `greeting-inner` and provides a greeting to what is inside it, as `<meet-room>` does. */
class GreetingOuter extends LitElement {
  static dependencies: Record<string, CustomElementConstructor> = {
    'greeting-inner': class GreetingInner extends LitElement {},
  };
  readonly greeting = new ContextProvider(this, { context: greeting, initialValue: 'hello' });
}

class GreetingReader extends LitElement {
  readonly greeting = new ContextConsumer(this, { context: greeting });
}

/** Catches console.warn while `run` runs. */
function warnings(run: () => void): unknown[][] {
  const seen: unknown[][] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => seen.push(args);
  try {
    run();
  } finally {
    console.warn = warn;
  }
  return seen;
}

describe('defineElement', () => {
  it('registers an element and the elements it renders', () => {
    defineElement('greeting-outer', GreetingOuter);
    expect(customElements.get('greeting-outer')).to.equal(GreetingOuter);
    expect(customElements.get('greeting-inner')).to.equal(GreetingOuter.dependencies['greeting-inner']);
  });

  it('registers an element before its dependencies, so elements already inside it find its context', async () => {
    const page = await fixture<HTMLDivElement>(
      html`<div>
        <greeting-later><greeting-reader-later></greeting-reader-later></greeting-later>
      </div>`,
    );
    class Later extends GreetingOuter {
      static override dependencies = { 'greeting-reader-later': class extends GreetingReader {} };
    }
    defineElement('greeting-later', Later);
    const reader = page.querySelector('greeting-reader-later') as GreetingReader;
    expect(reader.greeting.value).to.equal('hello');
  });

  it('registers lazy dependencies after the element, when their module arrives', async () => {
    const page = await fixture<HTMLDivElement>(
      html`<div>
        <greeting-lazy><greeting-reader-lazy></greeting-reader-lazy></greeting-lazy>
      </div>`,
    );
    class Reader extends GreetingReader {}
    let arrive: (reader: CustomElementConstructor) => void = () => {};
    class Lazy extends GreetingOuter {
      static lazyDependencies = {
        'greeting-reader-lazy': () => new Promise<CustomElementConstructor>((resolve) => (arrive = resolve)),
      };
    }
    defineElement('greeting-lazy', Lazy);
    expect(customElements.get('greeting-lazy')).to.equal(Lazy);
    expect(customElements.get('greeting-reader-lazy'), 'before its module arrives').to.be.undefined;
    arrive(Reader);
    expect(await customElements.whenDefined('greeting-reader-lazy')).to.equal(Reader);
    // Upgraded after the element around it, so it found its context.
    expect(page.querySelector<GreetingReader>('greeting-reader-lazy')!.greeting.value).to.equal('hello');
  });

  it('loads no lazy dependency that is already registered', () => {
    let loads = 0;
    class Taken extends LitElement {}
    customElements.define('greeting-taken', Taken);
    class Outer extends LitElement {
      static lazyDependencies = {
        'greeting-taken': () => {
          loads++;
          return Promise.resolve(Taken);
        },
      };
    }
    defineElement('greeting-outer-taken', Outer);
    expect(loads).to.equal(0);
  });

  it('says which lazy dependency failed to load, and still registers the element', async () => {
    const errors: unknown[][] = [];
    const error = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    try {
      class Outer extends LitElement {
        static lazyDependencies = {
          'greeting-unreachable': () =>
            Promise.reject(new TypeError('Failed to fetch dynamically imported module')),
        };
      }
      expect(() => defineElement('greeting-outer-offline', Outer)).not.to.throw();
      expect(customElements.get('greeting-outer-offline')).to.equal(Outer);
      await waitUntil(() => errors.length > 0, 'an error is logged');
    } finally {
      console.error = error;
    }
    expect(String(errors[0]![0])).to.contain('could not load <greeting-unreachable>');
  });

  it('never throws when loaded twice: the first registration wins, another copy warns', () => {
    class Copy extends LitElement {
      static dependencies = { 'greeting-inner': class extends LitElement {} };
    }
    defineElement('greeting-outer', GreetingOuter);
    const seen = warnings(() => {
      expect(() => defineElement('greeting-outer', GreetingOuter), 'the same class').not.to.throw();
      expect(() => defineElement('greeting-outer', Copy), 'another copy').not.to.throw();
    });
    expect(seen).to.have.length(1);
    expect(String(seen[0]![0])).to.contain('<greeting-outer> is already defined');
    expect(customElements.get('greeting-outer')).to.equal(GreetingOuter);
  });
});
