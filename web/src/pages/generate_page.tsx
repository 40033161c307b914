/**
 * Generate: pick a model (credit cost and expected time shown), write the prompt, choose duration
 * and aspect ratio where the model allows, see the balance, start. The newest job shows below the
 * form with live progress, so the whole flow works without leaving the page.
 */
import { type FormEvent, useEffect, useId, useMemo, useState } from "react";
import type { ApiError } from "../api.ts";
import { askNotificationPermission } from "../components/job_feedback.ts";
import { JobCard } from "../components/job_card.tsx";
import { useToast } from "../components/toasts.tsx";
import { credits as creditsText, roughDuration } from "../format.ts";
import { useModels, useVideoGeneration } from "../hooks/use_video_generation.ts";
import type { Model } from "../types.ts";

/**
 * Credits a model charges for `duration` seconds: the catalog's price for the default duration,
 * plus or minus the per-second rate for the difference (the server's base + rate × seconds).
 */
export function costFor(model: Model, duration: number | undefined): number {
  const base = model.default_duration ?? model.durations[0];
  if (!model.cost_per_second || duration === undefined || base == null) return model.credits;
  return model.credits + model.cost_per_second * (duration - base);
}

function errorText(error: ApiError, cost: number | null, available: number | null): string {
  switch (error.code) {
    case "insufficient_credits":
      return cost !== null && available !== null
        ? `Not enough credits: this video costs ${cost} and your balance is ${available}.`
        : "Not enough credits for this video.";
    case "rate_limited":
      return error.retryAfterSeconds
        ? `You're going fast. Try again in ${error.retryAfterSeconds} s.`
        : `You're going fast. ${error.message}`;
    case "unauthorized":
      return "Your session has expired. Sign in again.";
    default:
      return error.message;
  }
}

export function GeneratePage(props: { headingRef: (el: HTMLHeadingElement | null) => void }) {
  const { generate, jobs, credits, isSubmitting } = useVideoGeneration();
  const { models, error: modelsError, reload } = useModels();
  const toast = useToast();
  const [modelId, setModelId] = useState<string | null>(null);
  const [prompt, setPrompt] = useState("");
  const [duration, setDuration] = useState<number | undefined>(undefined);
  const [aspect, setAspect] = useState<string | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const ids = { prompt: useId(), promptHelp: useId(), duration: useId(), cost: useId() };

  // Video models that work from a prompt alone (start-image upload is not in the app yet).
  const enabledModels = useMemo(
    () => (models ?? []).filter((m) => m.kind === "video" && !m.accepts_image),
    [models],
  );
  const model = enabledModels.find((m) => m.id === modelId) ?? enabledModels[0] ?? null;

  // Keep duration and aspect ratio valid for the chosen model.
  useEffect(() => {
    if (!model) return;
    if (duration === undefined || !model.durations.includes(duration)) {
      const preferred = model.default_duration;
      setDuration(
        preferred != null && model.durations.includes(preferred) ? preferred : model.durations[0],
      );
    }
    if (aspect === undefined || !model.aspect_ratios.includes(aspect)) {
      setAspect(model.aspect_ratios[0]);
    }
  }, [model, duration, aspect]);

  // A refusal is about the choice it was made for; a new choice starts clean.
  useEffect(() => setError(null), [model?.id, duration, aspect]);

  const cost = model ? costFor(model, duration) : null;
  const short = credits !== null && cost !== null && credits.available < cost;
  // The newest job: the one just started, or a retry of it.
  const latest = jobs[0] ?? null;

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!prompt.trim()) return;
    setError(null);
    askNotificationPermission();
    const result = await generate(
      {
        prompt: prompt.trim(),
        model: model?.id,
        duration: model && model.durations.length > 0 ? duration : undefined,
        aspect_ratio: model && model.aspect_ratios.length > 0 ? aspect : undefined,
      },
      { onInsufficientCredits: setError, onError: (err, job) => !job && setError(err) },
    );
    if (result.ok) {
      toast({ kind: "info", title: "Video started", body: "We'll let you know when it's ready." });
    }
  }

  return (
    <section className="page" aria-labelledby="generate-title">
      <h1 id="generate-title" tabIndex={-1} ref={props.headingRef}>Generate a video</h1>
      <div className="generate-layout">
        <form className="panel generate-form" onSubmit={onSubmit} noValidate>
          <fieldset className="models" disabled={isSubmitting}>
            <legend>Model</legend>
            {models === null && !modelsError && <p className="muted">Loading models…</p>}
            {modelsError && (
              <p className="inline-error">
                Could not load the models.{" "}
                <button type="button" className="link-button" onClick={reload}>Try again</button>
              </p>
            )}
            <div className="model-grid">
              {enabledModels.map((m) => (
                <label
                  key={m.id}
                  className={`model-option ${model?.id === m.id ? "selected" : ""}`}
                >
                  <input
                    type="radio"
                    name="model"
                    value={m.id}
                    checked={model?.id === m.id}
                    onChange={() => setModelId(m.id)}
                  />
                  <span className="model-title">{m.title}</span>
                  <span className="model-facts">
                    {creditsText(m.id === model?.id ? costFor(m, duration) : m.credits)} ·{" "}
                    {roughDuration(m.expected_seconds)}
                  </span>
                </label>
              ))}
            </div>
          </fieldset>

          <div className="field">
            <label htmlFor={ids.prompt}>Prompt</label>
            <textarea
              id={ids.prompt}
              name="prompt"
              rows={4}
              required
              maxLength={2000}
              aria-describedby={ids.promptHelp}
              value={prompt}
              onChange={(e) => setPrompt(e.target.value)}
              placeholder="A red fox trotting through fresh snow at sunrise, cinematic"
            />
            <p id={ids.promptHelp} className="hint">
              Describe the scene, the motion and the style.
            </p>
          </div>

          {model && (model.durations.length > 1 || model.aspect_ratios.length > 1) && (
            <div className="field-row">
              {model.durations.length > 1 && (
                <div className="field">
                  <label htmlFor={ids.duration}>Duration</label>
                  <select
                    id={ids.duration}
                    value={duration ?? ""}
                    onChange={(e) => setDuration(Number(e.target.value))}
                  >
                    {model.durations.map((d) => <option key={d} value={d}>{d} seconds</option>)}
                  </select>
                </div>
              )}
              {model.aspect_ratios.length > 1 && (
                <fieldset className="field aspect">
                  <legend>Aspect ratio</legend>
                  <div className="segmented">
                    {model.aspect_ratios.map((r) => (
                      <label key={r} className={aspect === r ? "selected" : ""}>
                        <input
                          type="radio"
                          name="aspect_ratio"
                          value={r}
                          checked={aspect === r}
                          onChange={() =>
                            setAspect(r)}
                        />
                        {r}
                      </label>
                    ))}
                  </div>
                </fieldset>
              )}
            </div>
          )}

          <div className="summary" id={ids.cost}>
            <span>
              Cost: <strong data-testid="cost">{cost === null ? "—" : creditsText(cost)}</strong>
            </span>
            <span>
              Balance:{" "}
              <strong data-testid="balance">
                {credits === null ? "…" : creditsText(credits.available)}
              </strong>
            </span>
          </div>
          {short && !error && (
            <p className="inline-warning">
              This costs more credits than you have left. Pick a cheaper model or a shorter video.
            </p>
          )}
          {error && (
            <p className="inline-error" role="alert" data-testid="generate-error">
              {errorText(error, cost, credits?.available ?? null)}
            </p>
          )}
          <button
            type="submit"
            className="button button-primary"
            disabled={isSubmitting || !prompt.trim()}
            aria-describedby={ids.cost}
          >
            {isSubmitting ? "Starting…" : "Generate video"}
          </button>
        </form>

        {latest && (
          <section className="latest" aria-labelledby="latest-title">
            <div className="section-head">
              <h2 id="latest-title">Latest</h2>
              <a href="#/library">All videos</a>
            </div>
            <JobCard job={latest} models={models} headingLevel={3} />
          </section>
        )}
      </div>
    </section>
  );
}
