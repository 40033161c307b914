/** The current hash route as React state, following `hashchange`. */
import { useEffect, useState } from "react";
import { type Route, routeFromHash } from "./router.ts";

/** The current route. */
export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(() => routeFromHash(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(routeFromHash(location.hash));
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
