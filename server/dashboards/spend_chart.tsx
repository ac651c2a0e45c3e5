import { dayLabel, dollars } from "./format.ts";

const WIDTH = 900;
const HEIGHT = 190;
const LEFT = 64;
const RIGHT = 8;
const TOP = 12;
const BOTTOM = 28;
const PLOT_WIDTH = WIDTH - LEFT - RIGHT;
const PLOT_HEIGHT = HEIGHT - TOP - BOTTOM;

/**
 * A bar per day of the period, rendered on the server as SVG: no script, and
 * every size an SVG attribute (the CSP allows no inline styles). Each bar
 * carries its exact amount as a tooltip.
 */
export function SpendChart(
  props: { daily: { date: string; usd: number }[]; today: string },
) {
  const { daily, today } = props;
  const total = daily.reduce((sum, day) => sum + day.usd, 0);
  const top = niceCeiling(Math.max(0, ...daily.map((day) => day.usd)));
  const slot = PLOT_WIDTH / daily.length;
  const barWidth = round(Math.max(3, slot * 0.64));
  const baseline = TOP + PLOT_HEIGHT;
  const todayIndex = daily.findIndex((day) => day.date === today);
  const first = daily[0].date;
  const last = daily[daily.length - 1].date;
  const labels = [
    { i: 0, text: dayLabel(first), anchor: "start" },
    { i: daily.length - 1, text: dayLabel(last), anchor: "end" },
  ];
  // "Today" only where it does not crowd the ends.
  if (todayIndex > 3 && todayIndex < daily.length - 4) {
    labels.push({ i: todayIndex, text: "Today", anchor: "middle" });
  }
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      role="img"
      aria-label={`Daily spend from ${dayLabel(first)} to ${dayLabel(last)}: ${
        dollars(total)
      } in total`}
    >
      <line
        class="chart-grid"
        x1={LEFT}
        x2={WIDTH - RIGHT}
        y1={TOP}
        y2={TOP}
      />
      <line
        class="chart-grid chart-mid"
        x1={LEFT}
        x2={WIDTH - RIGHT}
        y1={TOP + PLOT_HEIGHT / 2}
        y2={TOP + PLOT_HEIGHT / 2}
      />
      <line
        class="chart-axis-line"
        x1={LEFT}
        x2={WIDTH - RIGHT}
        y1={baseline}
        y2={baseline}
      />
      <text class="chart-label chart-y" x={LEFT - 8} y={TOP + 4}>
        {top > 0 ? dollars(top) : ""}
      </text>
      <text class="chart-label chart-y" x={LEFT - 8} y={baseline + 4}>
        $0
      </text>
      {daily.map((day, i) => {
        const x = round(LEFT + i * slot + (slot - barWidth) / 2);
        if (day.usd <= 0) {
          // An empty day still marks its place on the axis.
          return (
            <rect
              key={day.date}
              class={day.date > today
                ? "chart-slot chart-future"
                : "chart-slot"}
              x={x}
              y={baseline - 1}
              width={barWidth}
              height="1"
            />
          );
        }
        const height = round(Math.max(2, (day.usd / top) * PLOT_HEIGHT));
        return (
          <rect
            key={day.date}
            class={day.date === today ? "chart-bar chart-today" : "chart-bar"}
            x={x}
            y={baseline - height}
            width={barWidth}
            height={height}
            rx="2"
          >
            <title>{`${dayLabel(day.date)}: ${dollars(day.usd)}`}</title>
          </rect>
        );
      })}
      {labels.map(({ i, text, anchor }) => (
        <text
          key={text}
          class={`chart-label chart-x chart-${anchor}`}
          x={round(
            LEFT +
              (anchor === "start" ? i : anchor === "end" ? i + 1 : i + 0.5) *
                slot,
          )}
          y={HEIGHT - 8}
        >
          {text}
        </text>
      ))}
      {top === 0 && (
        <text
          class="chart-empty"
          x={LEFT + PLOT_WIDTH / 2}
          y={TOP + PLOT_HEIGHT / 2 + 5}
        >
          No spend yet this period
        </text>
      )}
    </svg>
  );
}

/** Coordinates to a hundredth of a unit: finer is invisible, and float noise is long. */
function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** The next 1, 2 or 5 × 10ⁿ at or above `value`, so the axis reads in round numbers. */
function niceCeiling(value: number): number {
  if (value <= 0) return 0;
  const scale = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 5, 10].find((n) => n * scale >= value)!;
  return step * scale;
}
