export * from './limits.js';
export * from './errors.js';
export * from './participant.js';
export * from './client-messages.js';
export * from './server-messages.js';
export * from './parse.js';
export * as media from './media.js';
export * as feedback from './feedback.js';
