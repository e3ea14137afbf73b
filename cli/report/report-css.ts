/** The look the HTML reports share: cards, tables, bars. */
export const REPORT_CSS = `body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2430; margin: 0; background: #f6f7f9; }
main { max-width: 980px; margin: 0 auto; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 10px; }
.muted { color: #667085; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 12px; margin-top: 18px; }
.card { background: #fff; border-radius: 10px; padding: 12px 14px; box-shadow: 0 1px 2px rgba(0,0,0,.06); }
.card b { display: block; font-size: 22px; }
table { border-collapse: collapse; width: 100%; background: #fff; border-radius: 10px; overflow: hidden; box-shadow: 0 1px 2px rgba(0,0,0,.06); }
th, td { text-align: left; padding: 7px 12px; border-bottom: 1px solid #eef0f3; } td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.bar { background: #e8edff; border-radius: 4px; height: 10px; } .bar span { display: block; height: 10px; border-radius: 4px; background: #3b5bdb; }
`;
