// Types and documents for both apps from the operations in ../frontend-queries: the apps import
// these and never write an operation of their own (`npm run codegen`).
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../schema/supergraph.graphql",
  documents: ["../frontend-queries/storefront/*.graphql", "../frontend-queries/admin/*.graphql"],
  generates: {
    "shared/generated/graphql.ts": {
      plugins: ["typescript-operations", "typed-document-node"],
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        skipTypename: true,
        scalars: { ID: "string", Upload: "File" },
      },
    },
  },
};

export default config;
