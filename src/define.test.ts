import { ContextConsumer, ContextProvider, createContext } from '@lit/context';
import { expect, fixture, html } from '@open-wc/testing';
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
