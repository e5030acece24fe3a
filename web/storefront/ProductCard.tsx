import { Link } from "wouter";
import { Money } from "../shared/ui";
import type { MoneyValue } from "../shared/format";

export interface CardProduct {
  id: string;
  name: string;
  slug: string;
  price: MoneyValue;
  brand?: { name: string } | null;
  media?: readonly { url: string; alt?: string | null }[];
}

export function ProductGrid({ products }: { products: readonly CardProduct[] }) {
  if (!products.length) return <p className="muted">No products match.</p>;
  return (
    <ul className="grid">
      {products.map((product) => (
        <li key={product.id} className="card">
          {product.media?.[0] && (
            <img src={product.media[0].url} alt="" width={400} height={400} loading="lazy" />
          )}
          <Link href={`/p/${product.slug}`}>{product.name}</Link>
          {product.brand && <div className="muted">{product.brand.name}</div>}
          <div>
            <Money value={product.price} />
          </div>
        </li>
      ))}
    </ul>
  );
}
