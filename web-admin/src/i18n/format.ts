// Dates and numbers as the chosen language writes them ("Dec 3, 2026, 7:35 AM" /
// "03.12.2026, 07:35"), in the reader's own time zone; one formatter per language.
import { currentLanguage } from "./index";

const dateTimes = new Map<string, Intl.DateTimeFormat>();
const numbers = new Map<string, Intl.NumberFormat>();

function dateTimeFormat(): Intl.DateTimeFormat {
  const language = currentLanguage();
  let format = dateTimes.get(language);
  if (!format) {
    format = new Intl.DateTimeFormat(language, { dateStyle: "medium", timeStyle: "short" });
    dateTimes.set(language, format);
  }
  return format;
}

/** A server timestamp for people; "—" when there is none, the text itself if unreadable. */
export function formatDateTime(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : dateTimeFormat().format(date);
}

export function formatNumber(value: number): string {
  const language = currentLanguage();
  let format = numbers.get(language);
  if (!format) {
    format = new Intl.NumberFormat(language);
    numbers.set(language, format);
  }
  return format.format(value);
}

const days = new Map<string, Intl.DateTimeFormat>();

/** A server day ("2026-12-03", no time and no zone) as the language writes it; "—" when none. */
export function formatDay(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return value;
  const language = currentLanguage();
  let format = days.get(language);
  if (!format) {
    // Read in UTC: the day is the server's, not shifted into the reader's time zone.
    format = new Intl.DateTimeFormat(language, { dateStyle: "medium", timeZone: "UTC" });
    days.set(language, format);
  }
  return format.format(date);
}
