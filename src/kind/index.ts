export * from './commands';
export * from './errors';
export * from './client';
export * from './doctor';
export * from './locate';
export * from './cluster';
