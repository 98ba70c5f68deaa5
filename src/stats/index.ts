export * from './summary.js';
export * from './fit.js';
