-- One database per subgraph (each owns its data).
CREATE DATABASE accounts;
CREATE DATABASE catalog;
CREATE DATABASE inventory;
CREATE DATABASE carts;
CREATE DATABASE orders;
CREATE DATABASE payments;
CREATE DATABASE shipping;
CREATE DATABASE reviews;
CREATE DATABASE notifications;
CREATE DATABASE recommendations;
