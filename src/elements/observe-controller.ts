import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { Observable, Subscription } from 'rxjs';

/**
 * The one bridge from the rxjs core to an element: subscribes while the host
 * is connected, keeps the latest value, re-renders the host on change, and
 * unsubscribes when the host leaves the page or the source changes.
 */
export class ObserveController<T> implements ReactiveController {
  value: T | undefined;
  #source: Observable<T> | undefined;
  #subscription: Subscription | undefined;
  #connected = false;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly onValue?: (value: T) => void,
  ) {
    host.addController(this);
  }

  /** Follow another source (or none); the old one is dropped at once. */
  observe(source: Observable<T> | undefined): void {
    this.#subscription?.unsubscribe();
    this.#subscription = undefined;
    this.#source = source;
    this.value = undefined;
    if (this.#connected) this.#subscribe();
  }

  hostConnected(): void {
    this.#connected = true;
    this.#subscribe();
  }

  hostDisconnected(): void {
    this.#connected = false;
    this.#subscription?.unsubscribe();
    this.#subscription = undefined;
  }

  #subscribe(): void {
    if (!this.#source || this.#subscription) return;
    this.#subscription = this.#source.subscribe((value) => {
      this.value = value;
      this.onValue?.(value);
      this.host.requestUpdate();
    });
  }
}
