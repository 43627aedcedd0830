CREATE TABLE "media_attachments" (
	"id" bigint PRIMARY KEY NOT NULL,
	"account_id" bigint NOT NULL,
	"status_id" bigint,
	"scheduled_status_id" bigint,
	"type" text NOT NULL,
	"processing" text DEFAULT 'complete' NOT NULL,
	"processing_error" text,
	"file_key" text,
	"file_content_type" text,
	"file_size" integer,
	"small_key" text,
	"file_updated_at" timestamp with time zone,
	"thumbnail_key" text,
	"thumbnail_content_type" text,
	"thumbnail_file_size" integer,
	"thumbnail_remote_url" text,
	"remote_url" text DEFAULT '' NOT NULL,
	"description" text,
	"blurhash" text,
	"file_meta" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"shortcode" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "avatar_key" text;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "avatar_static_key" text;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "avatar_content_type" text;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "avatar_file_size" integer;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "avatar_remote_url" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "avatar_updated_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "header_key" text;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "header_static_key" text;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "header_content_type" text;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "header_file_size" integer;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "header_remote_url" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "header_updated_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "status_edits" ADD COLUMN "ordered_media_attachment_ids" bigint[];--> statement-breakpoint
ALTER TABLE "status_edits" ADD COLUMN "media_descriptions" text[];--> statement-breakpoint
ALTER TABLE "statuses" ADD COLUMN "ordered_media_attachment_ids" bigint[];--> statement-breakpoint
ALTER TABLE "media_attachments" ADD CONSTRAINT "media_attachments_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "media_attachments" ADD CONSTRAINT "media_attachments_status_id_statuses_id_fk" FOREIGN KEY ("status_id") REFERENCES "public"."statuses"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "media_attachments" ADD CONSTRAINT "media_attachments_scheduled_status_id_scheduled_statuses_id_fk" FOREIGN KEY ("scheduled_status_id") REFERENCES "public"."scheduled_statuses"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "media_attachments_status_idx" ON "media_attachments" USING btree ("status_id");--> statement-breakpoint
CREATE INDEX "media_attachments_scheduled_status_idx" ON "media_attachments" USING btree ("scheduled_status_id");--> statement-breakpoint
CREATE INDEX "media_attachments_account_idx" ON "media_attachments" USING btree ("account_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "media_attachments_shortcode_idx" ON "media_attachments" USING btree ("shortcode");--> statement-breakpoint
CREATE INDEX "media_attachments_unattached_idx" ON "media_attachments" USING btree ("id") WHERE status_id is null and scheduled_status_id is null;--> statement-breakpoint
CREATE INDEX "media_attachments_remote_cached_idx" ON "media_attachments" USING btree ("id") WHERE remote_url <> '' and file_key is not null;