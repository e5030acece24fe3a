// A product's images in the dashboard: upload one (PNG, JPEG, WebP or GIF) for the product or
// for one of its variants, or link one by its address (https, on a CDN: the shop does not fetch
// it, so its size is given here), change its alt text, move one forward, remove one. The shop checks each file (an image,
// within the size limit) and answers a bad one with a userError shown here.
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import {
  AddProductMediaDocument,
  RemoveProductMediaDocument,
  ReorderProductMediaDocument,
  UpdateProductMediaDocument,
  UploadProductMediaDocument,
  type AdminProductQuery,
} from "../../shared/generated/graphql";
import { variantTitle } from "../../shared/format";
import { ErrorMessage, Field, UserErrors } from "../../shared/ui";

type AdminProduct = NonNullable<AdminProductQuery["product"]>;

export function Media({ product }: { product: AdminProduct }) {
  const [uploaded, upload] = useMutation(UploadProductMediaDocument);
  const [removed, remove] = useMutation(RemoveProductMediaDocument);
  const [reordered, reorder] = useMutation(ReorderProductMediaDocument);
  const [described, describe] = useMutation(UpdateProductMediaDocument);
  const [linked, link] = useMutation(AddProductMediaDocument);
  const [formKey, setFormKey] = useState(0);
  const [linkFormKey, setLinkFormKey] = useState(0);
  const titleOf = (id: string) => {
    const variant = product.variants.find((v) => v.id === id);
    return variant ? variantTitle(variant.optionValues) || variant.sku : id;
  };
  const sellable = product.variants.filter((v) => v.status !== "ARCHIVED" && v.optionValues.length > 0);

  const onUpload = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const file = form.get("file");
    if (!(file instanceof File) || file.size === 0) return;
    const variantId = String(form.get("variant") ?? "");
    const alt = String(form.get("alt") ?? "").trim();
    const result = await upload({
      input: { productId: product.id, file, alt: alt || null, variantIds: variantId ? [variantId] : [] },
    });
    if (result.data?.uploadProductMedia.product) setFormKey((k) => k + 1);
  };
  const onLink = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const size = (name: string) => {
      const value = String(form.get(name) ?? "").trim();
      return value ? Number(value) : null;
    };
    const variantId = String(form.get("variant") ?? "");
    const alt = String(form.get("alt") ?? "").trim();
    const result = await link({
      input: {
        productId: product.id,
        media: {
          url: String(form.get("url") ?? "").trim(),
          alt: alt || null,
          width: size("width"),
          height: size("height"),
          variantIds: variantId ? [variantId] : [],
        },
      },
    });
    if (result.data?.addProductMedia.product) setLinkFormKey((k) => k + 1);
  };
  const variantPicker = sellable.length > 0 && (
    <Field label="Shows">
      <select name="variant" defaultValue="">
        <option value="">Whole product</option>
        {sellable.map((v) => (
          <option key={v.id} value={v.id}>
            {variantTitle(v.optionValues)}
          </option>
        ))}
      </select>
    </Field>
  );
  const moveForward = (index: number) => {
    const ids = product.media.map((m) => m.id);
    [ids[index - 1], ids[index]] = [ids[index], ids[index - 1]];
    reorder({ input: { productId: product.id, mediaIds: ids } });
  };

  return (
    <section className="card" aria-labelledby="images">
      <h2 id="images">Images</h2>
      {product.media.length === 0 ? (
        <p className="muted">No images yet.</p>
      ) : (
        <ol className="media-list">
          {product.media.map((media, index) => (
            <li key={media.id}>
              <img src={media.url} alt={media.alt ?? ""} width={96} height={96} style={{ objectFit: "cover" }} />
              <div>
                <form
                  className="row"
                  key={media.alt ?? ""}
                  onSubmit={(event) => {
                    event.preventDefault();
                    const alt = String(new FormData(event.currentTarget).get("alt") ?? "");
                    describe({ input: { productId: product.id, mediaId: media.id, alt } });
                  }}
                >
                  <Field label={`Alt text of image ${index + 1}`}>
                    <input name="alt" maxLength={500} defaultValue={media.alt ?? ""} />
                  </Field>
                  <button type="submit" className="secondary" disabled={described.fetching}>
                    Save alt text
                  </button>
                </form>
                <p className="muted">
                  {media.width && media.height ? `${media.width} × ${media.height}` : "Size unknown"} ·{" "}
                  {media.variantIds.length > 0 ? media.variantIds.map(titleOf).join(", ") : "Whole product"}
                </p>
                <div className="row">
                  {index > 0 && (
                    <button type="button" onClick={() => moveForward(index)} disabled={reordered.fetching}>
                      Move forward
                    </button>
                  )}
                  <button
                    type="button"
                    onClick={() => remove({ input: { productId: product.id, mediaId: media.id } })}
                    disabled={removed.fetching}
                  >
                    Remove image {index + 1}
                  </button>
                </div>
              </div>
            </li>
          ))}
        </ol>
      )}
      {removed.error && <ErrorMessage error={removed.error} />}
      <UserErrors errors={removed.data?.removeProductMedia.userErrors} />
      {described.error && <ErrorMessage error={described.error} />}
      <UserErrors errors={described.data?.updateProductMedia.userErrors} />
      {reordered.error && <ErrorMessage error={reordered.error} />}
      <UserErrors errors={reordered.data?.reorderProductMedia.userErrors} />
      <form key={formKey} onSubmit={onUpload}>
        <h3>Upload an image</h3>
        <div className="row">
          <Field label="Image file">
            <input name="file" type="file" accept="image/png,image/jpeg,image/webp,image/gif" required />
          </Field>
          <Field label="Alt text">
            <input name="alt" maxLength={500} />
          </Field>
          {variantPicker}
        </div>
        {uploaded.error && <ErrorMessage error={uploaded.error} />}
        <UserErrors errors={uploaded.data?.uploadProductMedia.userErrors} />
        {uploaded.data?.uploadProductMedia.product && <p role="status">Image uploaded.</p>}
        <button type="submit" disabled={uploaded.fetching}>
          Upload
        </button>
      </form>
      <form key={`link-${linkFormKey}`} onSubmit={onLink}>
        <h3>Link an image by its address</h3>
        <div className="row">
          <Field label="Image address">
            <input name="url" type="url" placeholder="https://" required />
          </Field>
          <Field label="Alt text of the linked image">
            <input name="alt" maxLength={500} />
          </Field>
          <Field label="Width in pixels">
            <input name="width" type="number" min={1} />
          </Field>
          <Field label="Height in pixels">
            <input name="height" type="number" min={1} />
          </Field>
          {variantPicker}
        </div>
        {linked.error && <ErrorMessage error={linked.error} />}
        <UserErrors errors={linked.data?.addProductMedia.userErrors} />
        {linked.data?.addProductMedia.product && <p role="status">Image linked.</p>}
        <button type="submit" disabled={linked.fetching}>
          Link image
        </button>
      </form>
    </section>
  );
}
