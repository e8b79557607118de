import { css } from 'lit';

/** The debug overlay's, the rating prompt's and the problem report's styles (`room-feedback.ts`). */
export const roomFeedbackStyles = css`
  :host {
    position: relative;
  }
  [part='debug'],
  [part='feedback-report'] {
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_background);
    color: var(--_text);
  }
  [part='debug'] {
    position: absolute;
    z-index: 2;
    inset-block-start: var(--_space);
    inset-inline-end: var(--_space);
    max-width: min(40em, calc(100% - var(--_space) * 2));
    max-height: calc(100% - var(--_space) * 2);
    padding: calc(var(--_space) * 1.5);
    box-shadow: 0 4px 16px rgb(0 0 0 / 0.25);
  }
  [part='debug'],
  [part='feedback-diagnostics'] {
    overflow: auto;
    font-size: 0.875em;
  }
  dl {
    display: grid;
    grid-template-columns: max-content 1fr;
    gap: calc(var(--_space) / 2) var(--_space);
    margin: 0 0 var(--_space);
  }
  dd {
    margin: 0;
    overflow-wrap: anywhere;
    font-family: ui-monospace, monospace;
  }
  dd ul {
    margin: 0;
    padding-inline-start: 1.2em;
  }
  table {
    border-collapse: collapse;
    margin-bottom: var(--_space);
    font-variant-numeric: tabular-nums;
  }
  caption {
    text-align: start;
    font-weight: 600;
  }
  th,
  td {
    padding: calc(var(--_space) / 4) calc(var(--_space) / 1.5);
    border-bottom: 1px solid var(--_border);
    text-align: start;
    white-space: nowrap;
  }
  .actions {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    justify-content: flex-end;
    gap: var(--_space);
  }
  [part='debug-copied'] {
    flex: 1;
    color: var(--_text-muted);
  }
  [part='feedback-rating'] {
    display: flex;
    flex-direction: column;
    gap: var(--_space);
    margin-bottom: calc(var(--_space) * 2);
    padding: calc(var(--_space) * 1.5);
    border: 1px solid var(--_accent);
    border-radius: var(--_radius);
  }
  .feedback-done {
    flex-direction: row;
    align-items: center;
    justify-content: space-between;
  }
  fieldset {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_space);
    margin: 0;
    padding: 0;
    border: 0;
  }
  legend {
    margin-bottom: calc(var(--_space) / 2);
  }
  /* Not the lobby's name field, which grows. */
  [part^='feedback'] label {
    flex: none;
  }
  fieldset label {
    flex-direction: row;
    align-items: center;
    gap: calc(var(--_space) / 2);
    padding: calc(var(--_space) / 2) var(--_space);
    border: 1px solid var(--_border);
    border-radius: calc(var(--_radius) / 1.5);
    cursor: pointer;
  }
  textarea {
    font: inherit;
    color: inherit;
    border: 1px solid var(--_border);
    border-radius: calc(var(--_radius) / 1.5);
    background: var(--_background);
    padding: calc(var(--_space) * 0.75);
    resize: vertical;
  }
  [part='feedback-error'] {
    margin: 0;
    color: var(--_danger);
  }
  [part='feedback-error']:empty {
    display: none;
  }
  [part='feedback-report'] {
    width: min(44em, calc(100vw - var(--_space) * 4));
    max-height: calc(100vh - var(--_space) * 4);
    padding: calc(var(--_space) * 2);
  }
  [part='feedback-report'] form {
    flex-direction: column;
    align-items: stretch;
  }
  summary {
    cursor: pointer;
    margin-bottom: var(--_space);
  }
`;
