import type { Sale } from '../api/schemas';
import { STATUS_LABEL, endReason } from '../logic/sale.logic';
import { Countdown } from './Countdown';
import { StockMeter } from './StockMeter';

type Props = { sale: Sale; clockOffsetMs: number };

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

function When({ iso }: { iso: string }) {
  const date = new Date(iso);
  return <time dateTime={iso}>{Number.isNaN(date.getTime()) ? iso : timeFormat.format(date)}</time>;
}

/** The sale at a glance: its state as the server reports it (FE-1) and what that means. */
export function SaleStatus({ sale, clockOffsetMs }: Props) {
  const reason = endReason(sale);
  return (
    <section
      className={`sale sale--${sale.status}${reason ? ` sale--${reason}` : ''}`}
      aria-labelledby="sale-heading"
      data-testid="sale-status"
      data-status={sale.status}
      data-ended-reason={reason ?? undefined}
    >
      <p className="sale__badge" aria-live="polite">
        <span className="visually-hidden">Sale status: </span>
        <span data-testid="sale-state">{STATUS_LABEL[sale.status]}</span>
      </p>
      <h1 id="sale-heading" className="sale__product">
        {sale.productName}
      </h1>

      {sale.status === 'upcoming' && (
        <>
          <p className="sale__lead">The sale has not started yet.</p>
          <Countdown label="Starts in" doneText="Starting…" target={sale.startTime} clockOffsetMs={clockOffsetMs} />
          <p className="sale__meta">
            {sale.totalStock} available from <When iso={sale.startTime} />
          </p>
        </>
      )}

      {sale.status === 'active' && (
        <>
          <p className="sale__lead">On sale now, one per shopper.</p>
          <StockMeter remaining={sale.remainingStock} total={sale.totalStock} />
          <Countdown label="Ends in" doneText="Ending…" target={sale.endTime} clockOffsetMs={clockOffsetMs} />
        </>
      )}

      {sale.status === 'ended' && reason === 'sold_out' && (
        <p className="sale__lead" data-testid="ended-reason">
          <strong>Sold out.</strong> All {sale.totalStock} have been sold.
        </p>
      )}
      {sale.status === 'ended' && reason === 'time' && (
        <p className="sale__lead" data-testid="ended-reason">
          <strong>Time ran out.</strong> The sale ended at <When iso={sale.endTime} />
          {sale.remainingStock > 0 ? ` with ${sale.remainingStock} of ${sale.totalStock} unsold.` : '.'}
        </p>
      )}
    </section>
  );
}
