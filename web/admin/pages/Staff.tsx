// Staff in the dashboard (with `staff:manage`): the staff roles and the permissions each grants,
// who holds which role, and a form to give a user roles by their email. Nobody changes their own
// roles (the shop refuses it); a change reaches the member's next request.
import { useState, type FormEvent } from "react";
import { useClient, useMutation, useQuery } from "urql";
import {
  CreateStaffRoleDocument,
  DeleteStaffRoleDocument,
  FindStaffMemberDocument,
  SetStaffRolesDocument,
  StaffDocument,
  UpdateStaffRoleDocument,
  type FindStaffMemberQuery,
  type Permission,
  type StaffQuery,
} from "../../shared/generated/graphql";
import { ErrorMessage, Field, Query, UserErrors } from "../../shared/ui";

/** Every permission, with what it lets a staff member do. */
const PERMISSIONS: { value: Permission; label: string }[] = [
  { value: "CATALOG_WRITE", label: "Catalog: products, media, collections, imports" },
  { value: "INVENTORY_READ", label: "Inventory: see warehouses and stock" },
  { value: "INVENTORY_WRITE", label: "Inventory: adjust stock, edit warehouses" },
  { value: "ORDERS_READ", label: "Orders: see every order, payment and shipment" },
  { value: "ORDERS_WRITE", label: "Orders: change status, cancel, fulfil" },
  { value: "ORDERS_REFUND", label: "Orders: refund payments" },
  { value: "PROMOTIONS_WRITE", label: "Promotions" },
  { value: "REVIEWS_MODERATE", label: "Reviews: moderate" },
  { value: "CUSTOMERS_READ", label: "Customers: see accounts" },
  { value: "CUSTOMERS_WRITE", label: "Customers: disable and enable accounts" },
  { value: "STAFF_MANAGE", label: "Staff: roles and who holds them" },
  { value: "API_CLIENTS_MANAGE", label: "API clients and their secrets" },
  { value: "SETTINGS_WRITE", label: "Settings: taxes and notifications" },
];

type Role = StaffQuery["staffRoles"][number];
type Member = FindStaffMemberQuery["staffMember"] & {};

export function StaffPage() {
  const [result, refetch] = useQuery({ query: StaffDocument });
  const reload = () => refetch({ requestPolicy: "network-only" });
  return (
    <>
      <h1>Staff</h1>
      <Query result={result} what="staff" retry={reload}>
        {(data) => (
          <>
            <RolesSection roles={data.staffRoles} onChange={reload} />
            <MembersSection roles={data.staffRoles} members={data.staffMembers} onChange={reload} />
          </>
        )}
      </Query>
    </>
  );
}

function PermissionChoices({ chosen, legend }: { chosen: readonly Permission[]; legend: string }) {
  return (
    <fieldset>
      <legend>{legend}</legend>
      {PERMISSIONS.map(({ value, label }) => (
        <label key={value} className="check">
          <input type="checkbox" name="permissions" value={value} defaultChecked={chosen.includes(value)} />
          {label}
        </label>
      ))}
    </fieldset>
  );
}

function chosenPermissions(form: FormData): Permission[] {
  return form.getAll("permissions").map((value) => String(value) as Permission);
}

function RolesSection({ roles, onChange }: { roles: readonly Role[]; onChange: () => void }) {
  const [created, create] = useMutation(CreateStaffRoleDocument);
  const [formKey, setFormKey] = useState(0);
  const onCreate = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const answer = await create({ name: String(form.get("name")), permissions: chosenPermissions(form) });
    if (answer.data?.createStaffRole.role) {
      setFormKey((k) => k + 1);
      onChange();
    }
  };
  return (
    <section>
      <h2>Roles</h2>
      {roles.map((role) => (
        <RoleCard key={role.id} role={role} onChange={onChange} />
      ))}
      <form key={formKey} onSubmit={onCreate} className="card">
        <h3>New role</h3>
        <Field label="Role name">
          <input name="name" required maxLength={64} />
        </Field>
        <PermissionChoices chosen={[]} legend="Permissions" />
        <button type="submit">Create role</button>
        {created.error && <ErrorMessage error={created.error} />}
        <UserErrors errors={created.data?.createStaffRole.userErrors} />
        {created.data?.createStaffRole.role && <p role="status">Role created.</p>}
      </form>
    </section>
  );
}

function RoleCard({ role, onChange }: { role: Role; onChange: () => void }) {
  const [updated, update] = useMutation(UpdateStaffRoleDocument);
  const [deleted, remove] = useMutation(DeleteStaffRoleDocument);
  const onSave = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const answer = await update({ id: role.id, permissions: chosenPermissions(new FormData(event.currentTarget)) });
    if (answer.data?.updateStaffRole.role) onChange();
  };
  const onDelete = async () => {
    const answer = await remove({ id: role.id });
    if (answer.data?.deleteStaffRole.deletedId) onChange();
  };
  return (
    <form onSubmit={onSave} className="card" aria-label={`Role ${role.name}`}>
      <h3>{role.name}</h3>
      <p className="muted">
        {role.memberCount} {role.memberCount === 1 ? "member" : "members"}
      </p>
      <PermissionChoices chosen={role.permissions} legend={`Permissions of ${role.name}`} />
      <div className="row">
        <button type="submit">Save {role.name}</button>
        <button type="button" className="secondary" onClick={onDelete}>
          Delete {role.name}
        </button>
      </div>
      {(updated.error ?? deleted.error) && <ErrorMessage error={(updated.error ?? deleted.error)!} />}
      <UserErrors errors={updated.data?.updateStaffRole.userErrors ?? deleted.data?.deleteStaffRole.userErrors} />
      {updated.data?.updateStaffRole.role && <p role="status">Role saved.</p>}
    </form>
  );
}

function MembersSection({
  roles,
  members,
  onChange,
}: {
  roles: readonly Role[];
  members: readonly Member[];
  onChange: () => void;
}) {
  const client = useClient();
  const [email, setEmail] = useState("");
  const [found, setFound] = useState<Member | null | undefined>(undefined);
  const onFind = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const answer = await client
      .query(FindStaffMemberDocument, { email }, { requestPolicy: "network-only" })
      .toPromise();
    setFound(answer.data?.staffMember ?? null);
  };
  return (
    <section>
      <h2>Staff members</h2>
      {members.map((member) => (
        <MemberRoles key={member.id} member={member} roles={roles} onChange={onChange} />
      ))}
      <form onSubmit={onFind} className="card">
        <h3>Give a user staff roles</h3>
        <Field label="Their email">
          <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </Field>
        <button type="submit">Find user</button>
        {found === null && <p role="alert">No account has this email.</p>}
      </form>
      {found && (
        <MemberRoles
          key={`found-${found.id}`}
          member={found}
          roles={roles}
          onChange={() => {
            setFound(undefined);
            setEmail("");
            onChange();
          }}
        />
      )}
    </section>
  );
}

function MemberRoles({ member, roles, onChange }: { member: Member; roles: readonly Role[]; onChange: () => void }) {
  const [saved, save] = useMutation(SetStaffRolesDocument);
  const held = member.staffRoles.map((role) => role.id);
  const onSave = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const roleIds = new FormData(event.currentTarget).getAll("roles").map(String);
    const answer = await save({ userId: member.id, roleIds });
    if (answer.data?.setStaffRoles.member) onChange();
  };
  return (
    <form onSubmit={onSave} className="card" aria-label={`Staff roles of ${member.email}`}>
      <fieldset>
        <legend>
          {member.name} ({member.email}){member.disabled ? " — disabled" : ""}
        </legend>
        {roles.map((role) => (
          <label key={role.id} className="check">
            <input type="checkbox" name="roles" value={role.id} defaultChecked={held.includes(role.id)} />
            {role.name}
          </label>
        ))}
      </fieldset>
      <button type="submit">Save roles of {member.email}</button>
      {saved.error && <ErrorMessage error={saved.error} />}
      <UserErrors errors={saved.data?.setStaffRoles.userErrors} />
    </form>
  );
}
