// The InputError a call throws: the test fails when it returns, or throws anything else.
import { InputError } from '../src/errors.js';

export function inputErrorOf(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}
