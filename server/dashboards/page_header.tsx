import DashboardSignOut from "../../islands/dashboard_sign_out.tsx";

/** The bar atop both dashboards: the brand, the two pages, and sign-out when signed in. */
export function PageHeader(
  props: { current: "dashboard" | "developers"; signedIn: boolean },
) {
  const tab = (page: typeof props.current, href: string, label: string) => (
    <a
      href={href}
      aria-current={props.current === page ? "page" : undefined}
    >
      {label}
    </a>
  );
  return (
    <header class="topbar">
      <div class="topbar-inner">
        <a class="brand" href="/">
          <span class="brand-mark" aria-hidden="true" />
          <span class="brand-name">Wattfare</span>
        </a>
        <nav class="tabs">
          {tab("dashboard", "/dashboard", "Your budget")}
          {tab("developers", "/developers", "Developers")}
        </nav>
        {props.signedIn && <DashboardSignOut />}
      </div>
    </header>
  );
}
