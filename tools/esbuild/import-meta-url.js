// Injected into the CommonJS bundles: what `import.meta.url` means in an ES module.
import { pathToFileURL } from 'node:url';

export const importMetaUrl = pathToFileURL(__filename).href;
