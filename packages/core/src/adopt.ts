/**
 * A class whose constructor returns the object it is given, so that a subclass
 * can put a private field on any object: a brand V8 reads like a property,
 * where a WeakSet or WeakMap entry is an ephemeron every collection must trace.
 */
export class Adopt {
  constructor(o: object) {
    // biome-ignore lint/correctness/noConstructorReturn: how a private field is put on any object
    return o;
  }
}
