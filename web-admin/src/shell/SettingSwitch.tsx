// A setting's switch that says "On" or "Off" in words beside the knob, and stays readable
// when read-only (support staff, reps reading the account's settings): the knob's side
// alone is not enough to tell, and a disabled Mantine switch is pale grey throughout.
import { Switch, type SwitchProps } from "@mantine/core";
import { useTranslation } from "react-i18next";

import classes from "./SettingSwitch.module.css";

export function SettingSwitch({ label, checked = false, ...props }: Omit<SwitchProps, "classNames">) {
  const { t } = useTranslation("shell");
  return (
    <Switch
      {...props}
      checked={checked}
      classNames={{ input: classes.input, track: classes.track, thumb: classes.thumb, label: classes.label }}
      label={
        <>
          {/* Hidden from the accessible name: the switch itself reports checked or not. */}
          <span className={classes.state} aria-hidden data-switch-state={checked ? "on" : "off"}>
            {checked ? t("on") : t("off")}
          </span>
          {label}
        </>
      }
    />
  );
}
