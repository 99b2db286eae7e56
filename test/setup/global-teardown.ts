export default async function globalTeardown(): Promise<void> {
  await globalThis.__TIERSTREAM_TEARDOWN__?.();
}
