import type { LegalBasis } from "../../gql/graphql";

export const LEGAL_BASES: Record<LegalBasis, string> = {
  NONE: "None",
  CONSENT: "Consent",
  LEGITIMATE_INTEREST: "Legitimate interest",
  CONTRACT: "Contract",
  LEGAL_OBLIGATION: "Legal obligation",
  VITAL_INTEREST: "Vital interest",
  PUBLIC_TASK: "Public task",
};
