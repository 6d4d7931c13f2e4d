import { useMediaQuery } from "@mantine/hooks";

/** True below Mantine's `sm` breakpoint (48em), where lists show as cards instead of tables
 * (issue 15, item 9). For lists whose rows hold form controls: rendering only one of the two
 * layouts keeps each control's accessible name unique on the page, which `hiddenFrom` would
 * not (a hidden twin still carries the label). */
export function usePhoneLayout(): boolean {
  return useMediaQuery("(max-width: 47.99em)", undefined, { getInitialValueInEffect: false }) ?? false;
}
