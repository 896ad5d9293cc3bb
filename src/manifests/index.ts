export * from './types';
export * from './images';
export * from './labels';
export * from './stack';
export * from './export';
