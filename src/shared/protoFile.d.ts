/** A `.proto` file imported as its text (esbuild's `text` loader, see esbuild.mjs). */
declare module '*.proto' {
  const text: string;
  export default text;
}
