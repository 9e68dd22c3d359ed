SET SESSION AUTHORIZATION 'shop_app';
CREATE TABLE public.t (id integer);
ALTER TABLE public.t OWNER TO shop_app;
COPY public.t (id) FROM stdin;
1
\.
GRANT SELECT ON TABLE public.t TO "shop reporting";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE shop_app GRANT ALL ON TABLES TO shop_app;
-- PostgreSQL database dump complete
