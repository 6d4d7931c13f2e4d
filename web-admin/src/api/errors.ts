// What an error of the GraphQL API is about, by its `extensions.code` (platform/errors.py).
import type { CombinedError } from "urql";

import i18n from "../i18n";
import { describeError } from "./client";

/** Whether one of the GraphQL errors carries `code` (e.g. NOT_FOUND). */
export function hasErrorCode(error: CombinedError | undefined, code: string): boolean {
  return error?.graphQLErrors.some((graphQLError) => graphQLError.extensions["code"] === code) ?? false;
}

/** A refused form, split by what the refusal is about. */
export interface FormError {
  /** Input the server found wrong (BAD_USER_INPUT): shown under the field it is about. */
  field: string | null;
  /** Anything else (a conflict, a missing seat or add-on, no connection): an alert. */
  form: string | null;
}

export const NO_FORM_ERROR: FormError = { field: null, form: null };

export function formError(error: CombinedError | undefined): FormError {
  if (!error) return { field: null, form: i18n.t("shell:noAnswer") };
  const message = describeError(error);
  return hasErrorCode(error, "BAD_USER_INPUT") ? { field: message, form: null } : { field: null, form: message };
}
