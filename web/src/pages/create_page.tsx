/**
 * Create: stories, batches, templates and image-to-video in one page (a tab per kind), with the
 * user's stories and batches below, each with its per-scene progress, live through the store's
 * one Realtime subscription (the request's answer seeds the parent and children; events do the
 * rest; nothing polls).
 */
import type { SupabaseClient } from "@supabase/supabase-js";
import { useEffect, useMemo, useState } from "react";
import { ApiError } from "../api.ts";
import { BatchForm, StoryForm } from "../components/pipeline_forms.tsx";
import { PipelineView } from "../components/pipeline_view.tsx";
import { ImageForm, TemplateForm } from "../components/template_image_forms.tsx";
import { useToast } from "../components/toasts.tsx";
import { fieldErrorOf, isParent } from "../hooks/pipelines.ts";
import { useJobsStore, useModels, useVideoGeneration } from "../hooks/use_video_generation.ts";
import {
  createPipelineApi,
  type ParentRequest,
  type SingleRequest,
  uploadStartImage,
} from "../pipeline_api.ts";
import type { Catalog, PipelineJob } from "../pipeline_types.ts";

type Tab = "story" | "batch" | "template" | "image";
const TABS: { id: Tab; label: string }[] = [
  { id: "story", label: "Story" },
  { id: "batch", label: "Batch" },
  { id: "template", label: "Template" },
  { id: "image", label: "From image" },
];

/** Turns a refusal into field errors (or one general message under the key ""). */
function errorsOf(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return { "": String(error) };
  if (error.code === "insufficient_credits") {
    return { "": `Not enough credits: ${error.message}` };
  }
  const { field, message } = fieldErrorOf(error.message);
  return field ? { [field]: message, "": error.message } : { "": message };
}

export function CreatePage(props: {
  supabase: SupabaseClient;
  userId: string;
  headingRef: (el: HTMLHeadingElement | null) => void;
}) {
  const store = useJobsStore();
  const { jobs } = useVideoGeneration();
  const { models } = useModels();
  const toast = useToast();
  const api = useMemo(() => createPipelineApi(props.supabase.functions), [props.supabase]);
  const [tab, setTab] = useState<Tab>("story");
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});

  useEffect(() => {
    let live = true;
    api.catalog().then(
      (c) => live && setCatalog(c),
      (e: unknown) => live && setErrors({ "": `Could not load templates: ${String(e)}` }),
    );
    return () => {
      live = false;
    };
  }, [api]);

  const parents = useMemo(() => jobs.filter(isParent) as PipelineJob[], [jobs]);

  async function run(work: () => Promise<string>) {
    setBusy(true);
    setErrors({});
    try {
      toast({ kind: "info", title: await work() });
    } catch (e) {
      setErrors(errorsOf(e));
    } finally {
      setBusy(false);
    }
  }

  const submitParent = (body: ParentRequest) =>
    run(async () => {
      const answer = await api.parent(body, crypto.randomUUID());
      store.hold([answer.parent, ...answer.jobs]);
      return answer.parent.kind === "story" ? "Story started" : "Batch started";
    });

  const submitSingle = (body: SingleRequest, image?: File) =>
    run(async () => {
      const image_path = image
        ? await uploadStartImage(props.supabase, props.userId, image)
        : undefined;
      const job = await api.single(
        image_path ? { ...body, image_path } : body,
        crypto.randomUUID(),
      );
      store.hold([job]);
      return "Video started";
    });

  const retry = (id: string) => void submitParent({ retry_of: id });
  const general = errors[""];

  return (
    <section className="page" aria-labelledby="create-title">
      <div className="section-head">
        <h1 id="create-title" tabIndex={-1} ref={props.headingRef}>Create</h1>
        <p className="muted">Stories, batches, templates and videos from an image.</p>
      </div>
      <div className="button-row create-tabs" role="group" aria-label="What to create">
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            className={`button ${tab === t.id ? "button-primary" : "button-secondary"}`}
            aria-pressed={tab === t.id}
            onClick={() => {
              setTab(t.id);
              setErrors({});
            }}
          >
            {t.label}
          </button>
        ))}
      </div>
      {general && <p className="inline-error" role="alert">{general}</p>}
      {tab === "story" && (
        <StoryForm catalog={catalog} busy={busy} errors={errors} submit={submitParent} />
      )}
      {tab === "batch" && (
        <BatchForm
          catalog={catalog}
          busy={busy}
          errors={errors}
          submit={submitParent}
          modelId={null}
        />
      )}
      {tab === "template" && (
        <TemplateForm catalog={catalog} busy={busy} errors={errors} submit={submitSingle} />
      )}
      {tab === "image" && (
        <ImageForm models={models} busy={busy} errors={errors} submit={submitSingle} />
      )}
      <h2>Your stories and batches</h2>
      {parents.length === 0 && <p className="muted">None yet.</p>}
      <ul className="pipeline-list">
        {parents.map((p) => (
          <li key={p.id}>
            <PipelineView parent={p} onRetry={retry} />
          </li>
        ))}
      </ul>
    </section>
  );
}
