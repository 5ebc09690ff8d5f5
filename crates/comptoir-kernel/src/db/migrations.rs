//! The platform tables. Written with SeaQuery's schema builder, so one definition serves
//! SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The kernel's migrations, in order.
pub fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(M0001Platform),
        Box::new(super::migration_jobs::M0002Jobs),
        Box::new(super::migration_jobs::M0003Alerts),
    ]
}

struct M0001Platform;

impl MigrationName for M0001Platform {
    fn name(&self) -> &str {
        "m20261121_000001_kernel_platform"
    }
}

#[derive(DeriveIden)]
enum Orgs {
    Table,
    Id,
    Name,
    Slug,
    Plan,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    Name,
    PasswordHash,
    CreatedAt,
    DisabledAt,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    Id,
    OrgId,
    UserId,
    Role,
    RegionId,
    StoreId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    OrgId,
    UserId,
    Name,
    Prefix,
    KeyHash,
    Role,
    Scopes,
    RegionId,
    StoreId,
    CreatedAt,
    LastUsedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    OrgId,
    UserId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    OrgId,
    UserId,
    TokenHash,
    CsrfToken,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    OrgId,
    ActorUserId,
    ActorApiKeyId,
    Action,
    Target,
    Ip,
    Details,
    CreatedAt,
}

fn fk_org<T: IntoIden + 'static>(table: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from_tbl(table)
        .from_col(Alias::new("org_id"))
        .to(Orgs::Table, Orgs::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn fk_user<T: IntoIden + 'static>(table: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from_tbl(table)
        .from_col(Alias::new("user_id"))
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Platform {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Orgs::Table)
                .col(pk_uuid(Orgs::Id))
                .col(string(Orgs::Name))
                .col(string_uniq(Orgs::Slug))
                .col(string(Orgs::Plan))
                .col(timestamp_with_time_zone(Orgs::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(pk_uuid(Users::Id))
                .col(string_uniq(Users::Email))
                .col(string(Users::Name))
                .col(string(Users::PasswordHash))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .col(timestamp_with_time_zone_null(Users::DisabledAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Memberships::Table)
                .col(pk_uuid(Memberships::Id))
                .col(uuid(Memberships::OrgId))
                .col(uuid(Memberships::UserId))
                .col(string(Memberships::Role))
                .col(uuid_null(Memberships::RegionId))
                .col(uuid_null(Memberships::StoreId))
                .col(timestamp_with_time_zone(Memberships::CreatedAt))
                .foreign_key(&mut fk_org(Memberships::Table))
                .foreign_key(&mut fk_user(Memberships::Table))
                .index(
                    Index::create()
                        .name("ux_memberships_org_user")
                        .col(Memberships::OrgId)
                        .col(Memberships::UserId)
                        .unique(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_memberships_user")
                .table(Memberships::Table)
                .col(Memberships::UserId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ApiKeys::Table)
                .col(pk_uuid(ApiKeys::Id))
                .col(uuid(ApiKeys::OrgId))
                .col(uuid(ApiKeys::UserId))
                .col(string(ApiKeys::Name))
                .col(string(ApiKeys::Prefix))
                .col(string_uniq(ApiKeys::KeyHash))
                .col(string(ApiKeys::Role))
                .col(string(ApiKeys::Scopes))
                .col(uuid_null(ApiKeys::RegionId))
                .col(uuid_null(ApiKeys::StoreId))
                .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                .col(timestamp_with_time_zone_null(ApiKeys::ExpiresAt))
                .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                .foreign_key(&mut fk_org(ApiKeys::Table))
                .foreign_key(&mut fk_user(ApiKeys::Table))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_api_keys_org")
                .table(ApiKeys::Table)
                .col(ApiKeys::OrgId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RefreshTokens::Table)
                .col(pk_uuid(RefreshTokens::Id))
                .col(uuid(RefreshTokens::OrgId))
                .col(uuid(RefreshTokens::UserId))
                .col(string_uniq(RefreshTokens::TokenHash))
                .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                .foreign_key(&mut fk_org(RefreshTokens::Table))
                .foreign_key(&mut fk_user(RefreshTokens::Table))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(pk_uuid(Sessions::Id))
                .col(uuid(Sessions::OrgId))
                .col(uuid(Sessions::UserId))
                .col(string_uniq(Sessions::TokenHash))
                .col(string(Sessions::CsrfToken))
                .col(timestamp_with_time_zone(Sessions::CreatedAt))
                .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                .foreign_key(&mut fk_org(Sessions::Table))
                .foreign_key(&mut fk_user(Sessions::Table))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(pk_uuid(AuditLog::Id))
                .col(uuid_null(AuditLog::OrgId))
                .col(uuid_null(AuditLog::ActorUserId))
                .col(uuid_null(AuditLog::ActorApiKeyId))
                .col(string(AuditLog::Action))
                .col(string_null(AuditLog::Target))
                .col(string_null(AuditLog::Ip))
                .col(json(AuditLog::Details))
                .col(timestamp_with_time_zone(AuditLog::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_audit_org_created")
                .table(AuditLog::Table)
                .col(AuditLog::OrgId)
                .col(AuditLog::CreatedAt)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
