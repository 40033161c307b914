/** The labelled email and password inputs shared by sign-in, sign-up and "save your account". */
import { useId } from "react";

/** Email + password fields; `newPassword` tells password managers to suggest a new one. */
export function EmailPasswordFields(props: {
  email: string;
  password: string;
  onEmail(v: string): void;
  onPassword(v: string): void;
  newPassword?: boolean;
}) {
  const emailId = useId();
  const passwordId = useId();
  return (
    <>
      <div className="field">
        <label htmlFor={emailId}>Email</label>
        <input
          id={emailId}
          type="email"
          autoComplete="email"
          required
          value={props.email}
          onChange={(e) => props.onEmail(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={passwordId}>Password</label>
        <input
          id={passwordId}
          type="password"
          autoComplete={props.newPassword ? "new-password" : "current-password"}
          required
          minLength={6}
          value={props.password}
          onChange={(e) => props.onPassword(e.target.value)}
        />
      </div>
    </>
  );
}
