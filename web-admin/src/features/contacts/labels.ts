// The legal bases' names in the reader's language: each read asks i18next, so a label is
// always in the language the page is shown in (one object, as the pages index it).
import type { LegalBasis } from "../../gql/graphql";
import i18n from "../../i18n";

const BASES: readonly LegalBasis[] = [
  "NONE",
  "CONSENT",
  "LEGITIMATE_INTEREST",
  "CONTRACT",
  "LEGAL_OBLIGATION",
  "VITAL_INTEREST",
  "PUBLIC_TASK",
];

export const LEGAL_BASES: Readonly<Record<LegalBasis, string>> = Object.defineProperties(
  {} as Record<LegalBasis, string>,
  Object.fromEntries(
    BASES.map((basis) => [basis, { enumerable: true, get: () => i18n.t(`contacts:legalBases.${basis}`) }]),
  ),
);
