import { useId } from 'react';
import { lowStockMark, stockLevel } from '../logic/sale.logic';

type Props = { remaining: number; total: number };

/** Remaining stock as a number and a meter (FE-2). */
export function StockMeter({ remaining, total }: Props) {
  const id = useId();
  const left = Math.max(0, Math.min(remaining, total));
  const level = stockLevel(left, total);
  return (
    <div className={`stock stock--${level}`}>
      <p className="stock__count">
        <span className="stock__number" data-testid="remaining-stock">
          {left}
        </span>{' '}
        of {total} left
      </p>
      <label className="stock__label" htmlFor={id}>
        Stock left
      </label>
      <meter
        id={id}
        className="stock__meter"
        min={0}
        max={Math.max(total, 1)}
        value={left}
        low={lowStockMark(total) + 0.5}
        high={Math.max(lowStockMark(total) + 1, total * 0.25)}
        optimum={Math.max(total, 1)}
        aria-valuetext={`${left} of ${total} left`}
      >
        {left} of {total} left
      </meter>
    </div>
  );
}
