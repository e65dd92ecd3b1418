import { useSale } from '../api/get-sale';
import { PurchaseSection } from './PurchaseSection';
import { SaleStatus } from './SaleStatus';

/** The shopper's single page: the live sale and the way to buy one. */
export function FlashSalePage() {
  const { sale, clockOffsetMs, error } = useSale();

  return (
    <main className="page">
      <header className="page__header">
        <p className="brand">
          <span aria-hidden="true">⚡</span> Flash Flow
        </p>
      </header>

      {error && sale !== undefined && (
        <p className="notice notice--stale" role="status" data-testid="connection-problem">
          Connection trouble: showing the last known status. Retrying…
        </p>
      )}

      {sale === undefined &&
        (error ? (
          <p className="notice notice--error" role="alert" data-testid="connection-problem">
            We cannot reach the shop right now. Retrying…
          </p>
        ) : (
          <p className="notice" role="status" aria-busy="true">
            Loading the sale…
          </p>
        ))}

      {sale === null && (
        <section className="sale sale--none" aria-labelledby="sale-heading" data-testid="sale-status" data-status="none">
          <h1 id="sale-heading" className="sale__product">
            No sale right now
          </h1>
          <p className="sale__lead">This page updates by itself when a sale is scheduled.</p>
        </section>
      )}

      {sale && <SaleStatus sale={sale} clockOffsetMs={clockOffsetMs} />}

      {/* A new sale starts the purchase area afresh. */}
      <PurchaseSection key={sale?.id ?? 'none'} sale={sale} />
    </main>
  );
}
