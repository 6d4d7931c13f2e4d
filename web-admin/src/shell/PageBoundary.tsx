// Without a boundary, a page chunk that fails to load (offline, or a deploy replaced the
// hashed files this tab asked for) would unmount the whole app and leave a blank screen.
import { Component, type ReactNode } from "react";

import i18n from "../i18n";
import { Failed } from "./States";

/** `path`: moving to another page clears the failure (the navigation stays usable). */
export class PageBoundary extends Component<{ path: string; children: ReactNode }, { failed: boolean }> {
  override state = { failed: false };

  static getDerivedStateFromError() {
    return { failed: true };
  }

  override componentDidUpdate(previous: { path: string }) {
    if (this.state.failed && previous.path !== this.props.path) this.setState({ failed: false });
  }

  override render() {
    if (!this.state.failed) return this.props.children;
    return (
      <Failed
        title={i18n.t("shell:pageFailed")}
        message={i18n.t("shell:pageFailedText")}
        onRetry={() => window.location.reload()}
      />
    );
  }
}
