//! The trades of one symbol's backtest, followed bar by bar from its positions.
//!
//! A trade starts at the bar whose position becomes non-zero and ends at the bar whose
//! position differs from it (or is still open at the last bar). Its return is the product
//! of `1 + strategy_return` over its bars, minus 1: from the entry bar (whose return is
//! the entry fee) to the exit bar (the last move and the exit fee) included. On a reversal
//! the exit bar belongs to the trade it closes and the new trade's bars start after it.
//! Bars outside trades earn nothing, so the product of `1 + return` over a symbol's trades
//! equals its last equity over its first.
use super::writer::Col;
use crate::codec::{Dec, Enc};
use crate::error::Result;

pub const TRADE_COLUMNS: [Col; 8] = [
    Col::text("symbol"),
    Col::text("side"),
    Col::timestamp("entry_ts"),
    Col::nullable_timestamp("exit_ts"),
    Col::double("entry_price"),
    Col::double("exit_price"),
    Col::bigint("bars"),
    Col::double("return"),
];

/// One trade.
#[derive(Clone, Debug, PartialEq)]
pub struct Trade {
    /// +1 long, -1 short.
    pub side: f64,
    pub entry_ts: i64,
    /// `None` while the trade is open at the symbol's last bar.
    pub exit_ts: Option<i64>,
    /// The close at the entry bar.
    pub entry_price: f64,
    /// The close at the exit bar (the last close while open).
    pub exit_price: f64,
    /// Bars from the entry bar to the exit (or last) bar: the bars the position earned over.
    pub bars: u64,
    pub ret: f64,
}

impl Trade {
    pub fn side_name(&self) -> &'static str {
        if self.side > 0.0 {
            "long"
        } else {
            "short"
        }
    }
}

struct Open {
    side: f64,
    entry_ts: i64,
    entry_price: f64,
    entry_bar: u64,
    growth: f64,
}

/// Follows one symbol's positions; closed trades gather in `closed`.
#[derive(Default)]
pub struct TradeBook {
    open: Option<Open>,
    /// Bars seen.
    bar: u64,
    prev_pos: f64,
    last_ts: i64,
    last_close: f64,
    pub closed: Vec<Trade>,
}

impl TradeBook {
    pub fn new() -> Self {
        TradeBook::default()
    }

    /// Everything needed to continue: the open trade, the counters and the closed trades
    /// not yet written (a symbol still short of its minimum keeps them).
    pub fn save(&self, e: &mut Enc) {
        e.u64(self.bar);
        e.f64(self.prev_pos);
        e.i64(self.last_ts);
        e.f64(self.last_close);
        e.u64(u64::from(self.open.is_some()));
        if let Some(o) = &self.open {
            e.f64(o.side);
            e.i64(o.entry_ts);
            e.f64(o.entry_price);
            e.u64(o.entry_bar);
            e.f64(o.growth);
        }
        e.usize(self.closed.len());
        for t in &self.closed {
            e.f64(t.side);
            e.i64(t.entry_ts);
            e.i64(t.exit_ts.expect("a closed trade has an exit"));
            e.f64(t.entry_price);
            e.f64(t.exit_price);
            e.u64(t.bars);
            e.f64(t.ret);
        }
    }

    /// # Errors
    /// `InvalidParam` on truncated bytes.
    pub fn load(d: &mut Dec<'_>) -> Result<Self> {
        let (bar, prev_pos, last_ts, last_close) = (d.u64()?, d.f64()?, d.i64()?, d.f64()?);
        let open = if d.u64()? == 1 {
            Some(Open {
                side: d.f64()?,
                entry_ts: d.i64()?,
                entry_price: d.f64()?,
                entry_bar: d.u64()?,
                growth: d.f64()?,
            })
        } else {
            None
        };
        let n = d.u64()?;
        let mut closed = Vec::new();
        for _ in 0..n {
            closed.push(Trade {
                side: d.f64()?,
                entry_ts: d.i64()?,
                exit_ts: Some(d.i64()?),
                entry_price: d.f64()?,
                exit_price: d.f64()?,
                bars: d.u64()?,
                ret: d.f64()?,
            });
        }
        Ok(TradeBook {
            open,
            bar,
            prev_pos,
            last_ts,
            last_close,
            closed,
        })
    }

    /// One bar: its time and close, the position held after it and its strategy return.
    pub fn bar(&mut self, ts: i64, close: f64, pos: f64, ret: f64) {
        let i = self.bar;
        let mut closed_here = false;
        if let Some(o) = self.open.as_mut() {
            o.growth *= 1.0 + ret;
            if pos != o.side {
                let o = self.open.take().expect("open");
                self.closed.push(Trade {
                    side: o.side,
                    entry_ts: o.entry_ts,
                    exit_ts: Some(ts),
                    entry_price: o.entry_price,
                    exit_price: close,
                    bars: i - o.entry_bar,
                    ret: o.growth - 1.0,
                });
                closed_here = true;
            }
        }
        if pos != 0.0 && pos != self.prev_pos {
            self.open = Some(Open {
                side: pos,
                entry_ts: ts,
                entry_price: close,
                entry_bar: i,
                // From flat the entry bar's return (its fee) is the trade's; on a reversal it
                // went to the trade just closed.
                growth: if closed_here { 1.0 } else { 1.0 + ret },
            });
        }
        self.prev_pos = pos;
        self.last_ts = ts;
        self.last_close = close;
        self.bar += 1;
    }

    /// The trade still open after the last bar, marked at the last close.
    pub fn still_open(&self) -> Option<Trade> {
        self.open.as_ref().map(|o| Trade {
            side: o.side,
            entry_ts: o.entry_ts,
            exit_ts: None,
            entry_price: o.entry_price,
            exit_price: self.last_close,
            bars: self.bar - 1 - o.entry_bar,
            ret: o.growth - 1.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_exits_and_a_reversal_follow_the_rule() {
        // (position after the bar, its return): flat, enter long (fee), +10%, reverse to
        // short (-5% and two fees), +2%, exit flat (+1%), flat, enter long, still open.
        let bars = [
            (0.0, 0.0),
            (1.0, -0.001),
            (1.0, 0.10),
            (-1.0, -0.052),
            (-1.0, 0.02),
            (0.0, 0.01),
            (0.0, 0.0),
            (1.0, -0.001),
            (1.0, 0.03),
        ];
        let mut b = TradeBook::new();
        let mut equity = 1.0;
        for (i, (pos, r)) in bars.iter().enumerate() {
            b.bar(i as i64 * 10, 100.0 + i as f64, *pos, *r);
            equity *= 1.0 + r;
        }
        let open = b.still_open().expect("open");
        let t = &b.closed;
        assert_eq!(t.len(), 2);
        assert_eq!(
            (t[0].side, t[0].entry_ts, t[0].exit_ts, t[0].bars),
            (1.0, 10, Some(30), 2)
        );
        assert_eq!((t[0].entry_price, t[0].exit_price), (101.0, 103.0));
        assert!((t[0].ret - (0.999 * 1.10 * 0.948 - 1.0)).abs() < 1e-15);
        assert_eq!(
            (t[1].side, t[1].entry_ts, t[1].exit_ts, t[1].bars),
            (-1.0, 30, Some(50), 2)
        );
        assert!((t[1].ret - (1.02 * 1.01 - 1.0)).abs() < 1e-15);
        assert_eq!(
            (open.entry_ts, open.exit_ts, open.exit_price, open.bars),
            (70, None, 108.0, 1)
        );
        let product: f64 = t.iter().chain([&open]).map(|t| 1.0 + t.ret).product();
        assert!((product - equity).abs() < 1e-15);
    }
}
