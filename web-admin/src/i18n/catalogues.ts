// The admin's words by language: en.json is the source, de.json its German translation.
// Plain JSON so translators' tools and the browser tests read the same files; the compiler
// refuses a German catalogue that misses a key of the English one.
import deJson from "./de.json";
import en from "./en.json";

/** The same keys as ``T``, every value a string (or a list of strings) in another language. */
export type Catalogue<T> = {
  [K in keyof T]: T[K] extends string ? string : T[K] extends readonly string[] ? readonly string[] : Catalogue<T[K]>;
};

export const de: Catalogue<typeof en> = deJson;
export { en };
