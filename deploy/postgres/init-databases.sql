-- Run once by the postgres image on an empty data volume (docker-entrypoint-initdb.d),
-- as POSTGRES_USER (minsheng).  One database per process; each process migrates its own.
CREATE DATABASE minsheng_gateway OWNER minsheng;
CREATE DATABASE minsheng_education OWNER minsheng;
CREATE DATABASE minsheng_health OWNER minsheng;
CREATE DATABASE minsheng_eldercare OWNER minsheng;
CREATE DATABASE minsheng_employment OWNER minsheng;
CREATE DATABASE minsheng_livability OWNER minsheng;
CREATE DATABASE minsheng_notifier OWNER minsheng;
CREATE DATABASE minsheng_webhooks OWNER minsheng;
