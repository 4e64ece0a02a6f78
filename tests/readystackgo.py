"""ReadyStackGo's own schema, written out independently of the product, for test databases."""

# DESIGN.md's DDL, verbatim: the table exactly as ReadyStackGo's EF Core model creates it. The
# tests build databases from this copy, not from the product's, so a drift in either shows.
DDL = """
CREATE TABLE "Registries" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_Registries" PRIMARY KEY,
    "OrganizationId" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "Url" TEXT NOT NULL,
    "Username" TEXT NULL,
    "Password" TEXT NULL,
    "IsDefault" INTEGER NOT NULL,
    "CreatedAt" TEXT NOT NULL,
    "UpdatedAt" TEXT NULL,
    "ImagePatterns" TEXT NOT NULL,
    "Version" INTEGER NOT NULL
);
CREATE INDEX "IX_Registries_OrganizationId" ON "Registries" ("OrganizationId");
CREATE INDEX "IX_Registries_OrganizationId_IsDefault"
    ON "Registries" ("OrganizationId", "IsDefault") WHERE [IsDefault] = 1;
CREATE UNIQUE INDEX "IX_Registries_OrganizationId_Name" ON "Registries" ("OrganizationId", "Name");
"""
# What makes a database ReadyStackGo's: EF Core's migrations history.
EF_HISTORY = """
CREATE TABLE "__EFMigrationsHistory" (
    "MigrationId" TEXT NOT NULL CONSTRAINT "PK___EFMigrationsHistory" PRIMARY KEY,
    "ProductVersion" TEXT NOT NULL
);
INSERT INTO "__EFMigrationsHistory" VALUES ('20250101000000_InitialCreate', '9.0.0');
"""
