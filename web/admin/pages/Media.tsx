// A product's images in the dashboard: upload one (PNG, JPEG, WebP or GIF) for the product or
// for one of its variants, change its alt text, move one forward, remove one. The shop checks each file (an image,
// within the size limit) and answers a bad one with a userError shown here.
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";
import {
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
  const [formKey, setFormKey] = useState(0);
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
          {sellable.length > 0 && (
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
          )}
        </div>
        {uploaded.error && <ErrorMessage error={uploaded.error} />}
        <UserErrors errors={uploaded.data?.uploadProductMedia.userErrors} />
        {uploaded.data?.uploadProductMedia.product && <p role="status">Image uploaded.</p>}
        <button type="submit" disabled={uploaded.fetching}>
          Upload
        </button>
      </form>
    </section>
  );
}
