/** Types of hash-wasm's BLAKE3-only bundle (CommonJS: one default export), from the package's own. */
declare module 'hash-wasm/dist/blake3.umd.min.js' {
  const blake3: { createBLAKE3: typeof import('hash-wasm').createBLAKE3 };
  export default blake3;
}
