import { FlashSalePage } from './features/flash-sale/components/FlashSalePage';

export function App() {
  return <FlashSalePage />;
}
