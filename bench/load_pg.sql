-- load_pg.sql: the benchmark table (psql -v rows=N)
CREATE TABLE t (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    amount numeric(12, 2),
    created_at timestamptz NOT NULL,
    note text,
    flag integer
);
INSERT INTO t
SELECT g, 'name-' || g, (g % 100000) / 7.0,
       timestamptz '2024-01-01 00:00:00+00' + g * interval '1.234 second',
       CASE WHEN g % 5 = 0 THEN NULL ELSE md5(g::text) END,
       CASE WHEN g % 3 = 0 THEN NULL ELSE g % 1000 END
FROM generate_series(1, :rows) g;
