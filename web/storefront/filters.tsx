// The filters of the storefront's product lists (category and search pages), kept in the URL
// so a filtered page can be shared and reloaded; changing one starts again at the first page.
import { useState } from "react";
import { useSearchParams } from "wouter";
import { Field } from "../shared/ui";

type Update = (change: (next: URLSearchParams) => void) => void;

/** The list's URL parameters, the cursors of the pages seen, and `update` for a filter change. */
export function useListParams() {
  const [params, setParams] = useSearchParams();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const update: Update = (change) => {
    const next = new URLSearchParams(params);
    change(next);
    setCursors([null]);
    setParams(next);
  };
  return { params, update, cursors, setCursors };
}

/** Brands to tick (`brand` parameters), with how many products each has where known. */
export function BrandFilter({
  brands,
  params,
  update,
}: {
  brands: readonly { id: string; name: string; count?: number }[];
  params: URLSearchParams;
  update: Update;
}) {
  const chosen = params.getAll("brand");
  const toggle = (id: string, on: boolean) =>
    update((next) => {
      next.delete("brand");
      for (const brand of on ? [...chosen, id] : chosen.filter((c) => c !== id)) next.append("brand", brand);
    });
  return (
    <fieldset>
      <legend>Brand</legend>
      {brands.map((brand) => (
        <label key={brand.id} style={{ display: "block" }}>
          <input type="checkbox" checked={chosen.includes(brand.id)} onChange={(e) => toggle(brand.id, e.target.checked)} />{" "}
          {brand.name}
          {brand.count !== undefined && ` (${brand.count})`}
        </label>
      ))}
    </fieldset>
  );
}

/** Where a facet's ticked values live in the URL: `option` (variant options) or `attr`
 * (category attributes) parameters, each `Name:Value` (Colour:Blue). */
export type FacetParam = "option" | "attr";

/** An option's or attribute's values to tick, with counts. */
export function FacetFilter({
  facet,
  param,
  params,
  update,
}: {
  facet: { name: string; values: readonly { value: string; count: number }[] };
  param: FacetParam;
  params: URLSearchParams;
  update: Update;
}) {
  const chosen = params.getAll(param);
  const toggle = (key: string, on: boolean) =>
    update((next) => {
      next.delete(param);
      for (const value of on ? [...chosen, key] : chosen.filter((c) => c !== key)) next.append(param, value);
    });
  return (
    <fieldset>
      <legend>{facet.name}</legend>
      {facet.values.map(({ value, count }) => {
        const key = `${facet.name}:${value}`;
        return (
          <label key={key} style={{ display: "block" }}>
            <input type="checkbox" checked={chosen.includes(key)} onChange={(e) => toggle(key, e.target.checked)} /> {value} (
            {count})
          </label>
        );
      })}
    </fieldset>
  );
}

/** The `param` parameters (`Name:Value`) as the search filter's option or attribute values. */
export function facetValues(params: URLSearchParams, param: FacetParam): { name: string; value: string }[] | null {
  const chosen = params.getAll(param).flatMap((key) => {
    const at = key.indexOf(":");
    return at > 0 ? [{ name: key.slice(0, at), value: key.slice(at + 1) }] : [];
  });
  return chosen.length ? chosen : null;
}

export function PriceFilter({
  params,
  update,
}: {
  params: URLSearchParams;
  update: Update;
}) {
  const [min, setMin] = useState(params.get("min") ?? "");
  const [max, setMax] = useState(params.get("max") ?? "");
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        update((next) => {
          for (const [key, value] of [["min", min], ["max", max]] as const) {
            if (value) next.set(key, value);
            else next.delete(key);
          }
        });
      }}
    >
      <div className="row">
        <Field label="Min price">
          <input inputMode="decimal" pattern="[0-9]+(\.[0-9]{1,2})?" size={6} value={min} onChange={(e) => setMin(e.target.value)} />
        </Field>
        <Field label="Max price">
          <input inputMode="decimal" pattern="[0-9]+(\.[0-9]{1,2})?" size={6} value={max} onChange={(e) => setMax(e.target.value)} />
        </Field>
      </div>
      <button type="submit" className="secondary">
        Apply prices
      </button>
    </form>
  );
}
