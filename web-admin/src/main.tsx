import "@mantine/core/styles.css";
import "@mantine/notifications/styles.css";

import { MantineProvider, createTheme } from "@mantine/core";
import { Notifications } from "@mantine/notifications";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { RouterProvider, createBrowserRouter } from "react-router";

// Languages first: pages read the chosen language as their modules load.
import "./i18n";
import { App } from "./App";
import { SessionProvider } from "./features/session/SessionProvider";

const theme = createTheme({ primaryColor: "blue", defaultRadius: "md" });

// A data router, so that a form with unsaved changes can hold a navigation until the person
// answers (useBlocker, shell/UnsavedChanges.tsx); App keeps its own <Routes> below it.
const router = createBrowserRouter([
  {
    path: "*",
    element: (
      <SessionProvider>
        <App />
      </SessionProvider>
    ),
  },
]);

const root = document.getElementById("root");
if (root === null) throw new Error("index.html has no #root");

createRoot(root).render(
  <StrictMode>
    <MantineProvider theme={theme} defaultColorScheme="light">
      <Notifications position="top-right" />
      <RouterProvider router={router} />
    </MantineProvider>
  </StrictMode>,
);
