import { useQuery } from "urql";
import { WarehousesDocument } from "../../shared/generated/graphql";
import { Query } from "../../shared/ui";

/** The warehouses stock is kept in; a product's page shows and adjusts its stock in each. */
export function WarehousesPage() {
  const [result, refetch] = useQuery({ query: WarehousesDocument });
  return (
    <>
      <h1>Warehouses</h1>
      <Query result={result} what="warehouses" retry={() => refetch({ requestPolicy: "network-only" })}>
        {(data) => (
          <table>
            <thead>
              <tr>
                <th scope="col">Code</th>
                <th scope="col">Name</th>
                <th scope="col">Ships orders</th>
              </tr>
            </thead>
            <tbody>
              {data.warehouses.map((warehouse) => (
                <tr key={warehouse.id}>
                  <td>{warehouse.code}</td>
                  <td>{warehouse.name}</td>
                  <td>{warehouse.active ? "Yes" : "No (inactive)"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Query>
    </>
  );
}
