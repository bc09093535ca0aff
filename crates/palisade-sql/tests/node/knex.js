// The statements of a documents/projects/clients back end as knex (npm, pinned in
// xtask/node; the query builder under Objection and Bookshelf) renders them for PostgreSQL,
// MySQL, SQLite and SQL Server, without a connection. One JSON line per statement:
// {"dialect", "sql", "bindings"}. Usage: node knex.js NODE_MODULES
const path = require("path");
const knex = require(path.join(process.argv[2], "knex"));

const CLIENTS = { postgres: "pg", mysql: "mysql", sqlite: "sqlite3", mssql: "mssql" };

function statements(k, dialect) {
  const owned = () => k("documents").where("owner_id", 42);
  const list = [
    owned()
      .select("id", "title", "updated_at")
      .where("title", "like", "%report%")
      .whereIn("status", ["open", "pending"])
      .whereNull("deleted_at")
      .orderBy("updated_at", "desc")
      .limit(20)
      .offset(40),
    owned().first("id", "title"),
    k("projects")
      .leftJoin("documents", "documents.project_id", "projects.id")
      .select("projects.name")
      .count({ n: "documents.id" })
      .where("projects.client_id", 7)
      .groupBy("projects.name")
      .having(k.raw("count(??)", ["documents.id"]), ">", 0),
    owned()
      .where((q) => q.where("title", "a").orWhereBetween("size", [10, 20]))
      .whereIn("project_id", k("projects").select("id").where("archived", false)),
    owned().whereNotIn("id", [5, 6]).whereNotNull("published_at").orderBy([
      { column: "title" },
      { column: "id", order: "desc" },
    ]),
    k("documents").where("owner_id", 42).update({ title: "renamed", version: 3 }).where("id", 1),
    k("documents").where("owner_id", 42).whereIn("id", [1, 2, 3]).del(),
    k("documents").insert([
      { id: 1, title: "draft", owner_id: 42 },
      { id: 2, title: "final", owner_id: 42 },
    ]),
  ];
  if (dialect !== "mssql") {
    list.push(
      k("documents")
        .insert({ id: 1, title: "draft", owner_id: 42 })
        .onConflict("id")
        .merge(["title"]),
    );
  }
  if (dialect === "postgres") {
    list.push(k("documents").insert({ title: "x", owner_id: 42 }).returning(["id"]));
    list.push(owned().whereILike("title", "%q%"));
  }
  return list;
}

for (const [dialect, client] of Object.entries(CLIENTS)) {
  const k = knex({ client, useNullAsDefault: true });
  for (const query of statements(k, dialect)) {
    const { sql, bindings } = query.toSQL().toNative();
    console.log(JSON.stringify({ dialect, sql, bindings: bindings.length }));
  }
}
