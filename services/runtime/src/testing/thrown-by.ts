/**
 * Test helper: runs `fn` and returns what it threw, checked to be an instance of `type`;
 * fails the test when it throws nothing or something else. Not part of the package build.
 */
export function thrownBy<E extends Error>(fn: () => unknown, type: abstract new (...args: never[]) => E): E {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  if (thrown === undefined) throw new Error(`expected a ${type.name}, nothing was thrown`);
  if (!(thrown instanceof type)) throw new Error(`expected a ${type.name}, got ${String(thrown)}`);
  return thrown;
}
