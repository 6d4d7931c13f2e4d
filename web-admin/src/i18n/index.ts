// The admin's languages (issue 15, item 12), through i18next (react-i18next): English and
// German, chosen by the person (kept in the browser), else by the browser's language. Dates
// and numbers follow the chosen language (format.ts), and so do the server's sentences (a
// cookie). Namespaces: one per area (catalogues.ts).
import i18n from "i18next";
import LanguageDetector from "i18next-browser-languagedetector";
import { initReactI18next } from "react-i18next";

import { de, en } from "./catalogues";

export const LANGUAGES = { en: "English", de: "Deutsch" } as const;
export type Language = keyof typeof LANGUAGES;
export const LANGUAGE_KEY = "sendtrail.language";

declare module "i18next" {
  interface CustomTypeOptions {
    defaultNS: "shell";
    resources: typeof en;
  }
}

void i18n
  .use(LanguageDetector)
  .use(initReactI18next)
  .init({
    resources: { en, de },
    fallbackLng: "en",
    supportedLngs: Object.keys(LANGUAGES),
    load: "languageOnly",
    ns: Object.keys(en),
    defaultNS: "shell",
    returnObjects: true,
    interpolation: { escapeValue: false }, // React escapes
    detection: { order: ["localStorage", "navigator"], lookupLocalStorage: LANGUAGE_KEY, caches: ["localStorage"] },
  });

/** The server's sentences (errors, audit entries, hints, reasons, live messages) follow the
 * same choice: the cookie reaches every request and the subscription WebSocket, whose headers
 * scripts cannot set (see sendtrail/web/reader_language.py). */
export const LANGUAGE_COOKIE = "sendtrail_language";

function markLanguage(language: string) {
  document.documentElement.lang = language;
  document.cookie = `${LANGUAGE_COOKIE}=${language}; path=/; max-age=31536000; SameSite=Lax`;
}
markLanguage(i18n.resolvedLanguage ?? "en");
i18n.on("languageChanged", () => markLanguage(i18n.resolvedLanguage ?? "en"));

/** The language pages are shown in now: one of LANGUAGES. */
export function currentLanguage(): Language {
  const resolved = i18n.resolvedLanguage ?? "en";
  return resolved in LANGUAGES ? (resolved as Language) : "en";
}

export default i18n;
