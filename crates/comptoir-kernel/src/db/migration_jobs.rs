//! The job queue's tables.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct M0002Jobs;

impl MigrationName for M0002Jobs {
    fn name(&self) -> &str {
        "m20261121_000002_kernel_jobs"
    }
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    OrgId,
    Kind,
    Payload,
    Status,
    Attempts,
    MaxAttempts,
    RunAt,
    LockedBy,
    LockedUntil,
    UniqueKey,
    Result,
    LastError,
    Errors,
    ProgressDone,
    ProgressTotal,
    CorrelationId,
    CreatedAt,
    UpdatedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum JobSelftestEffects {
    Table,
    Key,
    Worker,
    CreatedAt,
}

#[derive(DeriveIden)]
enum JobSelftestRuns {
    Table,
    Id,
    Key,
    Worker,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum Alerts {
    Table,
    Id,
    Rule,
    Severity,
    Message,
    Value,
    Threshold,
    OpenedAt,
    ResolvedAt,
}

/// Alerts raised by the rules over the metrics.
pub struct M0003Alerts;

impl MigrationName for M0003Alerts {
    fn name(&self) -> &str {
        "m20261121_000003_kernel_alerts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0003Alerts {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Alerts::Table)
                .col(pk_uuid(Alerts::Id))
                .col(string(Alerts::Rule))
                .col(string(Alerts::Severity))
                .col(text(Alerts::Message))
                .col(double(Alerts::Value))
                .col(double(Alerts::Threshold))
                .col(timestamp_with_time_zone(Alerts::OpenedAt))
                .col(timestamp_with_time_zone_null(Alerts::ResolvedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_alerts_rule_resolved")
                .table(Alerts::Table)
                .col(Alerts::Rule)
                .col(Alerts::ResolvedAt)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002Jobs {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Jobs::Table)
                .col(pk_uuid(Jobs::Id))
                .col(uuid_null(Jobs::OrgId))
                .col(string(Jobs::Kind))
                .col(json(Jobs::Payload))
                .col(string(Jobs::Status))
                .col(integer(Jobs::Attempts))
                .col(integer(Jobs::MaxAttempts))
                .col(big_integer(Jobs::RunAt))
                .col(string_null(Jobs::LockedBy))
                .col(big_integer_null(Jobs::LockedUntil))
                .col(string_null(Jobs::UniqueKey).unique_key())
                .col(json_null(Jobs::Result))
                .col(text_null(Jobs::LastError))
                .col(json(Jobs::Errors))
                .col(big_integer_null(Jobs::ProgressDone))
                .col(big_integer_null(Jobs::ProgressTotal))
                .col(string_null(Jobs::CorrelationId))
                .col(timestamp_with_time_zone(Jobs::CreatedAt))
                .col(timestamp_with_time_zone(Jobs::UpdatedAt))
                .col(timestamp_with_time_zone_null(Jobs::FinishedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_jobs_status_run_at")
                .table(Jobs::Table)
                .col(Jobs::Status)
                .col(Jobs::RunAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_jobs_org_status")
                .table(Jobs::Table)
                .col(Jobs::OrgId)
                .col(Jobs::Status)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(JobSelftestEffects::Table)
                .col(string(JobSelftestEffects::Key).primary_key())
                .col(string(JobSelftestEffects::Worker))
                .col(timestamp_with_time_zone(JobSelftestEffects::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(JobSelftestRuns::Table)
                .col(pk_uuid(JobSelftestRuns::Id))
                .col(string(JobSelftestRuns::Key))
                .col(string(JobSelftestRuns::Worker))
                .col(big_integer(JobSelftestRuns::StartedAt))
                .col(big_integer(JobSelftestRuns::FinishedAt))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
