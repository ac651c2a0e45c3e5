/** The meter's width in SVG units: a per-mille scale. */
const WIDTH = 1000;

/**
 * Spend against the cap as a bar: settled spend, then what requests in
 * flight hold. An SVG sized by attributes, since the page's CSP allows no
 * inline styles. Nothing is drawn without a cap.
 */
export function SpendMeter(
  props: { spentUsd: number; heldUsd: number; capUsd: number | null },
) {
  const { spentUsd, heldUsd, capUsd } = props;
  if (capUsd === null || capUsd <= 0) return null;
  const used = spentUsd / capUsd;
  // Any spend at all gets a sliver, so a first cent is visibly not zero.
  const spent = Math.min(WIDTH, spentUsd > 0 ? Math.max(6, used * WIDTH) : 0);
  const held = Math.min(WIDTH - spent, (heldUsd / capUsd) * WIDTH);
  const level = used >= 1 ? "full" : used >= 0.8 ? "high" : "ok";
  return (
    <svg
      class={`meter meter-${level}`}
      viewBox={`0 0 ${WIDTH} 12`}
      preserveAspectRatio="none"
      role="img"
      aria-label={`${Math.min(100, Math.round(used * 100))}% of the cap used`}
    >
      <rect class="meter-track" width={WIDTH} height="12" />
      {held > 0 && (
        <rect class="meter-held" x={spent} width={held} height="12" />
      )}
      <rect class="meter-spent" width={spent} height="12" />
    </svg>
  );
}
