import { AppShell, Badge, Burger, Button, Group, Indicator, NavLink, ScrollArea, Text, VisuallyHidden, em, getBreakpointValue, useMantineTheme } from "@mantine/core";
import { useDisclosure, useMediaQuery } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { type MouseEvent, Suspense, useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, Outlet, useLocation } from "react-router";

import { AuthError } from "../api/auth";
import { useLiveActivity } from "../features/activity/LiveActivity";
import { useSession, useSignedIn } from "../features/session/SessionProvider";
import { LanguagePicker } from "./LanguagePicker";
import { PageBoundary } from "./PageBoundary";
import classes from "./Shell.module.css";
import { Loading } from "./States";

/** Where the navigation collapses behind the burger (AppShell's `navbar.breakpoint`). */
const NAVBAR_BREAKPOINT = "sm";

// The navigation: sections of the account for its users, the console for support staff.
// Labels are keys of the "shell" namespace's nav (i18n/en.ts).
const SECTIONS = [
  { label: "overview", to: "/" },
  { label: "activity", to: "/activity" },
  { label: "emails", to: "/emails" },
  { label: "contacts", to: "/contacts" },
  {
    label: "settings",
    children: [
      { label: "tracking", to: "/settings/tracking" },
      { label: "outbound", to: "/settings/outbound" },
      { label: "users", to: "/settings/users" },
      { label: "tokens", to: "/settings/tokens" },
      { label: "domains", to: "/settings/domains" },
      { label: "webhooks", to: "/settings/webhooks" },
      { label: "audit", to: "/settings/audit" },
    ],
  },
  { label: "support", to: "/support", staffOnly: true },
] as const;

/** A detail page (/emails/<id>) lights up its section too, but only the page itself is
 * "current"; "/" would prefix everything, so it matches only itself. */
function navState(pathname: string, to: string) {
  const exact = pathname === to;
  return {
    active: exact || (to !== "/" && pathname.startsWith(`${to}/`)),
    "aria-current": exact ? ("page" as const) : undefined,
  };
}

/** Live activity heard while the user was on other pages (issue 15, item 7). */
function UnreadBadge() {
  const { t } = useTranslation("shell");
  const { unread } = useLiveActivity();
  if (unread === 0) return null;
  return (
    <Badge size="sm" circle={unread < 10} data-testid="activity-unread">
      {unread > 99 ? "99+" : unread}
      <VisuallyHidden> {t("newSuffix")}</VisuallyHidden>
    </Badge>
  );
}

/** The same media query as AppShell's collapsed navbar (below the breakpoint, less 0.1 px). */
function useCollapsibleNavbar(): boolean {
  const theme = useMantineTheme();
  const below = em(getBreakpointValue(NAVBAR_BREAKPOINT, theme.breakpoints) - 0.1);
  return useMediaQuery(`(max-width: ${below})`, undefined, { getInitialValueInEffect: false });
}

export function Shell() {
  const { t } = useTranslation("shell");
  const session = useSignedIn();
  const { signOut } = useSession();
  const { unread } = useLiveActivity();
  const location = useLocation();
  const [opened, { toggle, close }] = useDisclosure(false);
  const [signingOut, setSigningOut] = useState(false);
  const main = useRef<HTMLElement>(null);
  const shownPath = useRef(location.pathname);
  // Collapsed on a phone, the navbar is only slid off screen: keep it out of reach too.
  const navHidden = useCollapsibleNavbar() && !opened;

  useEffect(close, [location.pathname, close]);
  // A new page starts where its content does, for keyboard and screen-reader users alike;
  // the first page keeps the browser's own start (comparing paths survives StrictMode).
  useEffect(() => {
    if (shownPath.current === location.pathname) return;
    shownPath.current = location.pathname;
    main.current?.focus();
  }, [location.pathname]);

  function skipToContent(event: MouseEvent<HTMLAnchorElement>) {
    event.preventDefault(); // focus, rather than a #main in the address
    main.current?.focus();
  }

  async function leave() {
    setSigningOut(true);
    try {
      await signOut();
    } catch (error) {
      setSigningOut(false);
      notifications.show({
        color: "red",
        title: t("couldNotSignOut"),
        message: error instanceof AuthError ? error.message : t("tryAgain"),
      });
    }
  }

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 240, breakpoint: NAVBAR_BREAKPOINT, collapsed: { mobile: !opened } }}
      padding="md"
    >
      <a href="#main" className={classes.skipLink} onClick={skipToContent}>
        {t("skipToContent")}
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            {/* On a phone the "Activity" link and its count are behind the burger: the burger
                carries the count too. */}
            <Indicator
              label={unread > 99 ? "99+" : unread}
              disabled={unread === 0 || opened}
              size={16}
              hiddenFrom={NAVBAR_BREAKPOINT}
              data-testid="navigation-unread"
            >
              <Burger
                opened={opened}
                onClick={toggle}
                size="sm"
                aria-label={`${opened ? t("closeNavigation") : t("openNavigation")}${unread > 0 ? `, ${t("newInActivity", { count: unread })}` : ""}`}
              />
            </Indicator>
            {/* The product's name, not a heading: each page's own h1 comes first. */}
            <Text component="span" fz="h4" fw={700} lh="h4">
              {t("product")}
            </Text>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Text size="sm" c="dimmed" visibleFrom="sm" truncate maw={260}>
              {session.email}
            </Text>
            <LanguagePicker />
            <Button variant="default" size="xs" onClick={leave} loading={signingOut}>
              {t("signOut")}
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label={t("mainNavigation")} inert={navHidden} aria-hidden={navHidden || undefined}>
        <ScrollArea>
          {SECTIONS.filter((section) => ("staffOnly" in section) === session.isStaff).map((section) =>
            "to" in section ? (
              <NavLink
                key={section.label}
                component={Link}
                to={section.to}
                label={t(`nav.${section.label}`)}
                rightSection={section.to === "/activity" ? <UnreadBadge /> : undefined}
                {...navState(location.pathname, section.to)}
              />
            ) : (
              <NavLink key={section.label} label={t(`nav.${section.label}`)} defaultOpened childrenOffset="md">
                {section.children.map((child) => (
                  <NavLink
                    key={child.to}
                    component={Link}
                    to={child.to}
                    label={t(`nav.${child.label}`)}
                    {...navState(location.pathname, child.to)}
                  />
                ))}
              </NavLink>
            ),
          )}
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main id="main" ref={main} tabIndex={-1} className={classes.main}>
        {/* Inside the shell, so the header and navigation stay while a page's chunk loads. */}
        <PageBoundary path={location.pathname}>
          <Suspense fallback={<Loading label={t("loadingPage")} />}>
            <Outlet />
          </Suspense>
        </PageBoundary>
      </AppShell.Main>
    </AppShell>
  );
}
